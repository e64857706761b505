#!/bin/sh
# Creates the service user and, on first install, a random API token.
set -e
if ! getent group pmgtm-agent >/dev/null; then
  groupadd --system pmgtm-agent
fi
if ! getent passwd pmgtm-agent >/dev/null; then
  useradd --system --gid pmgtm-agent --home-dir /var/lib/pmgtm-agent --no-create-home \
    --shell /usr/sbin/nologin --comment "pmgtm-agent" pmgtm-agent
fi
install -d -m 0750 -o root -g pmgtm-agent /etc/pmgtm-agent
if [ ! -e /etc/pmgtm-agent/token ]; then
  umask 077
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /etc/pmgtm-agent/token
  chown pmgtm-agent:pmgtm-agent /etc/pmgtm-agent/token
  chmod 0600 /etc/pmgtm-agent/token
  echo "pmgtm-agent: API token written to /etc/pmgtm-agent/token (give it to the provider's agent block)"
fi
# The API's self-signed certificate, made as the service user in its state
# directory, and its fingerprint for the node's agent_tls_fingerprint.
install -d -m 0700 -o pmgtm-agent -g pmgtm-agent /var/lib/pmgtm-agent
if fp=$(setpriv --reuid=pmgtm-agent --regid=pmgtm-agent --init-groups \
    /usr/bin/pmgtm-agent fingerprint --config /etc/pmgtm-agent/pmgtm-agent.conf 2>/dev/null); then
  echo "pmgtm-agent: API certificate fingerprint (agent_tls_fingerprint): $fp"
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi

#!/bin/sh
# Stops the service before its files go; zones in /var/lib/pmgtm-agent stay.
set -e
if [ -d /run/systemd/system ]; then
  systemctl stop pmgtm-agent.service >/dev/null 2>&1 || true
  systemctl disable pmgtm-agent.service >/dev/null 2>&1 || true
fi

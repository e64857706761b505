package model

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"net/url"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// The attributes that say how to reach a node's agent, on pmgtm_node and
// in each element of pmgtm_hostname.nodes.
const (
	AttrAgentURL         = "agent_url"
	AttrAgentFingerprint = "agent_tls_fingerprint"
	AttrAgentToken       = "agent_token"
	AttrAgentClientCert  = "agent_client_cert_pem"
	AttrAgentClientKey   = "agent_client_key_pem"
)

// AgentCredentials are a node's own TLS settings for its agent; empty
// strings are unset (the provider's defaults apply) or not yet known.
type AgentCredentials struct {
	Fingerprint, ClientCertPEM, ClientKeyPEM string
}

// validateCredentials checks c; attributes are prefixed with at (for a
// node inside a list, "nodes[1].").
func validateCredentials(c AgentCredentials, at string) []Problem {
	var out []Problem
	if c.Fingerprint != "" {
		if _, err := zone.ParseCertFingerprint(c.Fingerprint); err != nil {
			out = append(out, Problem{at + AttrAgentFingerprint, "Invalid fingerprint", err.Error()})
		}
	}
	if (c.ClientCertPEM == "") != (c.ClientKeyPEM == "") {
		out = append(out, Problem{at + AttrAgentClientCert, "Incomplete client certificate",
			AttrAgentClientCert + " and " + AttrAgentClientKey + " go together: set both, or neither to use the provider's."})
	} else if c.ClientCertPEM != "" {
		if _, err := tls.X509KeyPair([]byte(c.ClientCertPEM), []byte(c.ClientKeyPEM)); err != nil {
			out = append(out, Problem{at + AttrAgentClientCert, "Invalid client certificate",
				AttrAgentClientCert + " and " + AttrAgentClientKey + " do not make a usable pair: " + err.Error()})
		}
	}
	return out
}

// plaintextWarning warns about an http:// agent URL that leaves the host:
// the token (and every zone) would cross the network in clear.
func plaintextWarning(agentURL, at string) []Problem {
	u, err := url.Parse(agentURL)
	if err != nil || u.Scheme != "http" {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); (err == nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return []Problem{{at + AttrAgentURL, "Agent API in plaintext",
		fmt.Sprintf("%s is not loopback, so the agent's token and every zone would cross the network in clear. "+
			"Use https:// (the agent serves TLS by default) with %s pinning its certificate.", agentURL, AttrAgentFingerprint)}}
}

package provider

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// agentAccess is how the provider reaches one node's agent: its URL and
// the node's own credentials. Empty fields fall back to the provider's
// agent block, so a fleet may share one credential, but then every node
// holds a secret that unlocks every other node: per-node credentials keep
// one compromised machine from rewriting the others' zones.
type agentAccess struct {
	URL           string
	Token         string
	Fingerprint   string // SHA-256 of the agent's certificate; pins it instead of a CA
	ClientCertPEM string
	ClientKeyPEM  string
}

// The node attributes that carry agentAccess, on pmgtm_node and in each
// element of pmgtm_hostname.nodes.
const (
	attrAgentURL         = model.AttrAgentURL
	attrAgentFingerprint = model.AttrAgentFingerprint
	attrAgentToken       = model.AttrAgentToken
	attrAgentClientCert  = model.AttrAgentClientCert
	attrAgentClientKey   = model.AttrAgentClientKey
)

// agentCredentials are a node's own agent credentials as the schemas hold
// them, on pmgtm_node and in each element of pmgtm_hostname.nodes.
type agentCredentials struct {
	Fingerprint   types.String `tfsdk:"agent_tls_fingerprint"`
	Token         types.String `tfsdk:"agent_token"`
	ClientCertPEM types.String `tfsdk:"agent_client_cert_pem"`
	ClientKeyPEM  types.String `tfsdk:"agent_client_key_pem"`
}

// plain is the credentials the model checks (the token has no rules).
func (c agentCredentials) plain() model.AgentCredentials {
	return model.AgentCredentials{Fingerprint: known(c.Fingerprint), ClientCertPEM: known(c.ClientCertPEM), ClientKeyPEM: known(c.ClientKeyPEM)}
}

// access is how to reach the agent at url with these credentials.
func (c agentCredentials) access(url types.String) agentAccess {
	return agentAccess{URL: known(url), Token: known(c.Token), Fingerprint: known(c.Fingerprint),
		ClientCertPEM: known(c.ClientCertPEM), ClientKeyPEM: known(c.ClientKeyPEM)}
}

var nodeObjectTypes = map[string]attr.Type{
	"nameserver": types.StringType, "ipv4": types.StringType, "ipv6": types.StringType, attrAgentURL: types.StringType,
	attrAgentFingerprint: types.StringType, attrAgentToken: types.StringType, attrAgentClientCert: types.StringType,
	attrAgentClientKey: types.StringType,
}

// credentialAttributes are the per-node credential attributes of a schema
// (pmgtm_node's own, or a node in pmgtm_hostname.nodes).
func credentialAttributes(computed bool) map[string]schema.Attribute {
	str := func(desc string, sensitive bool) schema.Attribute {
		return schema.StringAttribute{Optional: !computed, Computed: computed, Sensitive: sensitive, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		attrAgentFingerprint: str("SHA-256 fingerprint of the agent's TLS certificate (`pmgtm-agent fingerprint` prints it), "+
			"hex with or without colons. Pins that certificate instead of trusting a CA: the agent's self-signed default works as is.", false),
		attrAgentToken: str("This node's own agent API token (the agent's `--token-file`). Default: the provider's `agent.token`. "+
			"Give each node its own, so that no node holds a secret that opens another.", true),
		attrAgentClientCert: str("PEM client certificate for this node's agent (mutual TLS). Default: the provider's.", false),
		attrAgentClientKey:  str("PEM key of `agent_client_cert_pem`.", true),
	}
}

// nodeAttributes is a node object's schema: what pmgtm_node exports as
// `node` (computed) and what each element of pmgtm_hostname.nodes takes.
func nodeAttributes(computed bool) map[string]schema.Attribute {
	// Optional, not Required, even for nameserver: Terraform checks
	// required nested attributes before pmgtm_node's plan makes the
	// object known, and the hostname's own checks name a missing one.
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Optional: !computed, Computed: computed, MarkdownDescription: desc}
	}
	out := credentialAttributes(computed)
	out["nameserver"] = str("Fully qualified nameserver name.")
	out["ipv4"] = str("The node's IPv4 address.")
	out["ipv6"] = str("The node's IPv6 address.")
	out[attrAgentURL] = str("URL of the node's agent API.")
	return out
}

// agentIdleConnTimeout is below the agent API's idle timeout (60 s).
const agentIdleConnTimeout = 30 * time.Second

// agentTransports builds and keeps one HTTP client per distinct TLS
// setting, so that connections to an agent are reused across calls.
type agentTransports struct {
	base    *tls.Config   // the provider's CA and client certificate
	timeout time.Duration // of one agent API call
	log     *Clients      // for logging and its masks; nil: no logging
	mu      sync.Mutex
	clients map[string]*http.Client
}

func (t *agentTransports) client(a agentAccess) *http.Client {
	key := a.Fingerprint + "\x00" + a.ClientCertPEM + "\x00" + a.ClientKeyPEM
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[key]; ok {
		return c
	}
	c := &http.Client{Timeout: t.timeout}
	cfg, err := t.tlsConfig(a)
	if err != nil {
		c.Transport = failing{err}
	} else {
		// Idle connections are dropped here before the agent drops them
		// (its API closes them after 60 s, as long as a DNS verification
		// may take), so that a call after a long check gets a fresh one.
		c.Transport = &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
			IdleConnTimeout: agentIdleConnTimeout}
	}
	if t.log != nil {
		c.Transport = loggedTransport{clients: t.log, next: c.Transport}
	}
	if t.clients == nil {
		t.clients = map[string]*http.Client{}
	}
	t.clients[key] = c
	return c
}

func (t *agentTransports) tlsConfig(a agentAccess) (*tls.Config, error) {
	cfg := t.base.Clone()
	if a.ClientCertPEM != "" {
		pair, err := tls.X509KeyPair([]byte(a.ClientCertPEM), []byte(a.ClientKeyPEM))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", attrAgentClientCert, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if a.Fingerprint != "" {
		pin, err := zone.ParseCertFingerprint(a.Fingerprint)
		if err != nil {
			return nil, err
		}
		// The pin replaces the CA: the agent's own self-signed certificate
		// is trusted exactly, and nothing else is.
		cfg.InsecureSkipVerify = true // verified by VerifyConnection against the pinned fingerprint
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the agent sent no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if string(got[:]) != string(pin) {
				return fmt.Errorf("the agent's certificate has fingerprint %s, but the node pins %s (%s); "+
					"a different machine answers at this address, or the agent's certificate was replaced",
					zone.CertFingerprint(cs.PeerCertificates[0].Raw), a.Fingerprint, attrAgentFingerprint)
			}
			return nil
		}
	}
	return cfg, nil
}

// failing is a transport for credentials that cannot be used: every call
// fails with why (validation reports it at plan time already).
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// agent returns a client for one node's agent, with the node's own
// credentials where it has them and the provider's otherwise.
func (c *Clients) agent(a agentAccess) *agentclient.Client {
	if a.Token == "" {
		a.Token = c.AgentToken
	}
	return &agentclient.Client{BaseURL: a.URL, Token: a.Token, HTTP: c.agents.client(a)}
}

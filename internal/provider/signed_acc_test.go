package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

// TestAccSignedParent runs a hostname's life in every RFC 2136 parent
// (BIND, Knot DNS, PowerDNS; unsigned, NSEC- and NSEC3-signed by the server
// itself): create, two in-place updates, a node move and destroy, with an
// empty plan after each step. In signed zones a validating Unbound (trust
// anchor: the zone's key) resolves the hostname through the provably
// insecure delegation, and keeps resolving it with a node dead.
func TestAccSignedParent(t *testing.T) {
	accOnly(t)
	for i, c := range []struct{ software, signing string }{
		{"bind", "nsec"}, {"bind", "nsec3"}, {"knot", ""}, {"knot", "nsec"}, {"knot", "nsec3"},
		{"pdns", ""}, {"pdns", "nsec"}, {"pdns", "nsec3"},
	} {
		software, signing := c.software, c.signing
		t.Run(software+"-"+map[string]string{"": "unsigned"}[signing]+signing, func(t *testing.T) {
			base := fmt.Sprintf("127.0.9.%d", 10*(i+1))
			ip := func(n int) string { return fmt.Sprintf("127.0.9.%d", 10*(i+1)+n) }
			lb1, lb2, lb3, lb1b := ip(1), ip(2), ip(3), ip(4)
			// Unsigned parents on Knot and PowerDNS: with a key for
			// transfers apart from the update key.
			r := newRigOn(t, bind.Options{Software: software, Signing: signing, TransferKey: signing == ""}, lb1, lb2, lb3, lb1b)
			lookupVia := func(want []string, prepare func()) error {
				if signing == "" {
					if prepare != nil {
						prepare()
					}
					return nil
				}
				return validatedLookup(t, r, base, "api.example.test.", want, prepare)
			}
			two := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
			three := append(slices.Clone(two), testNode{"lb3", lb3, ""})
			moved := []testNode{{"lb1", lb1b, ""}, {"lb2", lb2, ""}, {"lb3", lb3, ""}}
			before := pmgtmRecords(zoneRecords(t, r.srv), r.srv.Zone)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				CheckDestroy: func(*terraform.State) error {
					if left := pmgtmRecords(zoneRecords(t, r.srv), r.srv.Zone); !slices.Equal(left, before) {
						return fmt.Errorf("records left after destroy: %v", left)
					}
					return nil
				},
				Steps: []resource.TestStep{
					{
						Config: r.config(two, []string{"lb1", "lb2"}, ""),
						Check: func(*terraform.State) error {
							return lookupVia([]string{lb1, lb2}, nil)
						},
					},
					{Config: r.config(two, []string{"lb1", "lb2"}, "answer_ttl = 7")},
					{Config: r.config(three, []string{"lb1", "lb2", "lb3"}, "answer_ttl = 7")},
					{
						Config: r.config(moved, []string{"lb1", "lb2", "lb3"}, "answer_ttl = 7"),
						Check: func(*terraform.State) error {
							if err := r.expectDelegation("lb1", "lb2", "lb3"); err != nil {
								return err
							}
							// A dead node: the validating resolver asks the others.
							return lookupVia([]string{lb2, lb3}, func() { r.agents[lb1b].Kill() })
						},
					},
				},
			})
		})
	}
}

// validatedLookup starts a validating Unbound whose trust anchor is the
// parent zone's key, and checks that the hostname resolves to one of want
// (after prepare, if given), that the answer is not bogus, and that the
// delegation is provably insecure: the parent's signed denial of a DS.
func validatedLookup(t *testing.T, r *rig, base, fqdn string, want []string, prepare func()) error {
	t.Helper()
	anchor, err := zoneKey(r.srv.Addr, r.srv.Zone)
	if err != nil {
		return err
	}
	ub, err := dnsrig.StartUnbound(dnsrig.UnboundOptions{Dir: t.TempDir(), IP: base, Port: agentproc.FreePort(t, base),
		ControlPort: agentproc.FreePort(t, base), StubZone: r.srv.Zone, StubAddr: r.srv.Addr, TrustAnchor: anchor})
	if err != nil {
		return err
	}
	defer ub.Stop()
	if prepare != nil {
		prepare()
	}
	ask := func(qtype uint16) (*dns.Msg, error) {
		m := new(dns.Msg).SetQuestion(fqdn, qtype)
		m.SetEdns0(1232, true)
		resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, ub.Addr)
		return resp, err
	}
	ds, err := ask(dns.TypeDS)
	if err != nil {
		return err
	}
	if ds.Rcode != dns.RcodeSuccess || len(ds.Answer) != 0 || !ds.AuthenticatedData {
		return fmt.Errorf("DS of %s: rcode %s, %d answers, ad=%v; want a validated denial (the delegation is provably insecure)\n%s",
			fqdn, dns.RcodeToString[ds.Rcode], len(ds.Answer), ds.AuthenticatedData, ub.Log())
	}
	// A resolver that first picks the dead node waits out its timeout; a
	// stub resolver asks again, and so does this (three tries at most).
	var a *dns.Msg
	for try := 0; try < 3; try++ {
		if a, err = ask(dns.TypeA); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	if a.Rcode != dns.RcodeSuccess || len(a.Answer) == 0 {
		return fmt.Errorf("A of %s through a validating resolver: %s\n%s", fqdn, dns.RcodeToString[a.Rcode], ub.Log())
	}
	for _, rr := range a.Answer {
		if v, ok := rr.(*dns.A); ok && !slices.Contains(want, v.A.String()) {
			return fmt.Errorf("A of %s is %s, want one of %v", fqdn, v.A, want)
		}
	}
	return nil
}

// zoneKey returns the zone's key-signing DNSKEY, as a trust anchor.
func zoneKey(server, zone string) (string, error) {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(zone), dns.TypeDNSKEY)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil {
		return "", err
	}
	for _, rr := range resp.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			return strings.ReplaceAll(k.String(), "\t", " "), nil
		}
	}
	return "", fmt.Errorf("no key-signing DNSKEY at %s", zone)
}

// TestAccParentAuthErrors: a wrong TSIG secret, an unknown key, a zone the
// server does not serve and an update policy without pmgtm each stop the
// plan with their own message, before anything is written; answers that
// do not come from the server fail the plan or the apply.
func TestAccParentAuthErrors(t *testing.T) {
	accOnly(t)
	srv := bind.Start(t, bind.Options{Zone: "example.test"})
	readOnly := bind.Start(t, bind.Options{Zone: "example.test", ReadOnlyKey: true})
	twoKeys := bind.Start(t, bind.Options{Zone: "example.test", TransferKey: true})
	provider := func(server, keyName, secret string) string {
		return fmt.Sprintf("provider \"pmgtm\" {\n  rfc2136 {\n    server     = %q\n    key_name   = %q\n    key_secret = %q\n  }\n}\n", server, keyName, secret)
	}
	node := func(zone string) string {
		return fmt.Sprintf("resource \"pmgtm_node\" \"lb1\" {\n  zone      = %q\n  name      = \"lb1\"\n  ipv4      = \"127.0.9.91\"\n  agent_url = \"http://127.0.9.91:1\"\n}\n", zone)
	}
	for name, c := range map[string]struct{ config, want string }{
		"wrong secret":  {provider(srv.Addr, srv.KeyName, "d3Jvbmcgc2VjcmV0IGZvciB0aGUga2V5IDAxMjM0NTY3"), `(BADSIG)`},
		"unknown key":   {provider(srv.Addr, "nobody.", srv.KeySecret), `(BADKEY)`},
		"zone typo":     {provider(srv.Addr, srv.KeyName, srv.KeySecret), `does not serve zone`},
		"update policy": {provider(readOnly.Addr, readOnly.KeyName, readOnly.KeySecret), `(REFUSED)`},
		"bad secret":    {provider(srv.Addr, srv.KeyName, "not base64!"), `key_secret is not base64`},
		// A server whose update key may not transfer: reads need the transfer key.
		"no transfer key":   {provider(twoKeys.Addr, twoKeys.KeyName, twoKeys.KeySecret), `allow key pmgtm-test. to transfer`},
		"half transfer key": {strings.Replace(provider(twoKeys.Addr, twoKeys.KeyName, twoKeys.KeySecret), "  }\n}", "    transfer_key_name = \"pmgtm-xfr.\"\n  }\n}", 1), `transfer_key_secret is required`},
	} {
		t.Run(name, func(t *testing.T) {
			zone := "example.test"
			if name == "zone typo" {
				zone = "example.tset"
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config:      c.config + node(zone),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(regexp.QuoteMeta(c.want)),
				}},
			})
		})
	}
	// Something in front of the server answers UPDATEs itself: unsigned,
	// which the plan's policy probe already refuses, or signed with the key
	// (a compromised middlebox), which the read-back after the write finds.
	for name, c := range map[string]struct {
		secret, want string
		planOnly     bool
	}{
		"unsigned answers":   {"", `is not signed`, true},
		"answered, not done": {srv.KeySecret, `was\s+not\s+added`, false},
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config:      provider(bind.FrontProxy(t, srv.Addr, c.secret), srv.KeyName, srv.KeySecret) + node("example.test"),
					PlanOnly:    c.planOnly,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
		})
	}
	if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 0 {
		t.Fatalf("a refused plan or a faked write wrote records: %v", got)
	}
}

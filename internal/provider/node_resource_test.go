package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

var protoV6Providers = map[string]func() (tfprotov6.ProviderServer, error){
	"pmgtm": providerserver.NewProtocol6WithError(New("test")()),
}

func providerBlock(srv *bind.Server) string {
	return fmt.Sprintf(`
provider "pmgtm" {
  rfc2136 {
    server     = %q
    key_name   = %q
    key_secret = %q
  }
}
`, srv.Addr, srv.KeyName, srv.KeySecret)
}

// lookup asks BIND directly for name's records of type t.
func lookup(t *testing.T, srv *bind.Server, name string, qtype uint16) []string {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		case *dns.TXT:
			out = append(out, v.Txt...)
		}
	}
	return out
}

func update(t *testing.T, srv *bind.Server, insert bool, rr string) {
	t.Helper()
	r, err := dns.NewRR(rr)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetUpdate(srv.Zone + ".")
	if insert {
		m.Insert([]dns.RR{r})
	} else {
		m.Remove([]dns.RR{r})
	}
	m.SetTsig(srv.KeyName, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{srv.KeyName: srv.KeySecret}}
	if resp, _, err := c.Exchange(m, srv.Addr); err != nil || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("update %s: %v %v", rr, err, resp)
	}
}

func nodeConfig(srv *bind.Server, ipv4, ipv6 string) string {
	v6 := ""
	if ipv6 != "" {
		v6 = fmt.Sprintf("ipv6 = %q", ipv6)
	}
	return providerBlock(srv) + fmt.Sprintf(`
resource "pmgtm_node" "lb1" {
  zone      = "example.test"
  name      = "lb1"
  ipv4      = %q
  %s
  agent_url = "http://127.0.0.11:8053"
}
`, ipv4, v6)
}

func TestAccNodeLifecycle(t *testing.T) {
	accOnly(t)
	srv := bind.Start(t, bind.Options{Zone: "example.test", Records: []string{"foreign 300 A 192.0.2.99", "foreign 300 TXT \"keep me\""}})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy: func(*terraform.State) error {
			if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 0 {
				return fmt.Errorf("lb1 A left after destroy: %v", got)
			}
			if got := lookup(t, srv, "lb1._pmgtm.example.test.", dns.TypeTXT); len(got) != 0 {
				return fmt.Errorf("marker left after destroy: %v", got)
			}
			if got := lookup(t, srv, "foreign.example.test.", dns.TypeA); len(got) != 1 {
				return fmt.Errorf("foreign record changed: %v", got)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: nodeConfig(srv, "127.0.0.11", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pmgtm_node.lb1", tfjsonpath.New("id"), knownvalue.StringExact("example.test/lb1")),
					statecheck.ExpectKnownValue("pmgtm_node.lb1", tfjsonpath.New("nameserver"), knownvalue.StringExact("lb1.example.test.")),
					statecheck.ExpectKnownValue("pmgtm_node.lb1", tfjsonpath.New("node").AtMapKey("ipv4"), knownvalue.StringExact("127.0.0.11")),
				},
				Check: func(*terraform.State) error {
					if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 1 || got[0] != "127.0.0.11" {
						return fmt.Errorf("BIND serves lb1 A %v", got)
					}
					return nil
				},
			},
			{
				ResourceName: "pmgtm_node.lb1", ImportState: true, ImportStateId: "example.test/lb1",
				ImportStateVerify: true, ImportStateVerifyIgnore: []string{"agent_url", "node", "instance_id"},
			},
			{ // change an address and add IPv6
				Config: nodeConfig(srv, "127.0.0.21", "2001:db8::21"),
				Check: func(*terraform.State) error {
					if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 1 || got[0] != "127.0.0.21" {
						return fmt.Errorf("lb1 A %v after update", got)
					}
					if got := lookup(t, srv, "lb1.example.test.", dns.TypeAAAA); len(got) != 1 || got[0] != "2001:db8::21" {
						return fmt.Errorf("lb1 AAAA %v after update", got)
					}
					return nil
				},
			},
			{ // drift: the A record deleted out of band comes back
				PreConfig: func() { update(t, srv, false, "lb1.example.test. 300 IN A 127.0.0.21") },
				Config:    nodeConfig(srv, "127.0.0.21", "2001:db8::21"),
				Check: func(*terraform.State) error {
					if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 1 || got[0] != "127.0.0.21" {
						return fmt.Errorf("drifted A not restored: %v", got)
					}
					return nil
				},
			},
			{ // a foreign record at the wanted name stops the apply and stays
				Config: nodeConfig(srv, "127.0.0.21", "2001:db8::21") + `
resource "pmgtm_node" "clash" {
  zone      = "example.test"
  name      = "foreign"
  ipv4      = "127.0.0.31"
  agent_url = "http://127.0.0.31:8053"
}
`,
				ExpectError: regexp.MustCompile(`foreign\.example\.test\. 300 A 192\.0\.2\.99`),
			},
		},
	})
}

func TestAccNodeValidation(t *testing.T) {
	accOnly(t)
	srv := bind.Start(t, bind.Options{Zone: "example.test"})
	cases := map[string]struct{ body, err string }{
		"v6 in ipv4":    {`ipv4 = "2001:db8::1"`, `not an IPv4 address`},
		"multicast":     {`ipv4 = "224.0.0.9"`, `multicast`},
		"no address":    {``, `Set ipv4, ipv6 or both`},
		"bad ttl":       {`ipv4 = "198.51.100.1"` + "\n  ttl = 10", `ttl = 10; use 60 to 86400`},
		"bad agent url": {`ipv4 = "198.51.100.1"`, `must start with https://`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			url := "https://198.51.100.1:8053"
			if name == "bad agent url" {
				url = "ftp://x"
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config: providerBlock(srv) + fmt.Sprintf(`
resource "pmgtm_node" "n" {
  zone      = "example.test"
  name      = "lb1"
  agent_url = %q
  %s
}
`, url, c.body),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(regexp.QuoteMeta(c.err)),
				}},
			})
			if got := lookup(t, srv, "lb1.example.test.", dns.TypeA); len(got) != 0 {
				t.Fatalf("a rejected plan wrote records: %v", got)
			}
		})
	}
}

package provider

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestAccStaticRecords: CAA, TXT and an HTTPS record configured on the
// hostname are answered the same by every node, the HTTPS hints being each
// node's own address, and reach clients through a real resolver (Unbound);
// a change is served after apply, and a CAA tag that is not one is refused
// at plan time with the attribute named.
func TestAccStaticRecords(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.13.11", "127.0.13.12"
	r := newRig(t, lb1, lb2)
	ub := r.unbound("127.0.13.3")
	tf := terraformCLI(t)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	records := func(txt string) string {
		return r.config(nodes, []string{"lb1", "lb2"}, `caa = [
    { tag = "issue", value = "letsencrypt.org" },
    { flags = 128, tag = "iodef", value = "mailto:security@example.test" },
  ]
  txt   = ["`+txt+`"]
  https = { alpn = ["h2", "http/1.1"] }`)
	}
	if out, err := tf(records("verification=one"), "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	ask := func(server string, qtype uint16) []dns.RR {
		t.Helper()
		m := new(dns.Msg).SetQuestion("api.example.test.", qtype)
		resp, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, server)
		if err != nil || resp.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s %s: %v %v", server, dns.TypeToString[qtype], resp, err)
		}
		return resp.Answer
	}
	texts := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.CAA:
				out = append(out, v.Tag+"="+v.Value)
			case *dns.TXT:
				out = append(out, strings.Join(v.Txt, ""))
			}
		}
		slices.Sort(out)
		return out
	}
	wantCAA := []string{"iodef=mailto:security@example.test", "issue=letsencrypt.org"}
	for _, ip := range []string{lb1, lb2} {
		if got := texts(ask(ip+":53", dns.TypeCAA)); !slices.Equal(got, wantCAA) {
			t.Errorf("node %s CAA %v", ip, got)
		}
		if got := texts(ask(ip+":53", dns.TypeTXT)); !slices.Equal(got, []string{"verification=one"}) {
			t.Errorf("node %s TXT %v", ip, got)
		}
		https := ask(ip+":53", dns.TypeHTTPS)
		if len(https) != 1 {
			t.Fatalf("node %s HTTPS %v", ip, https)
		}
		if s := https[0].String(); !strings.Contains(s, `alpn="h2,http/1.1"`) || !strings.Contains(s, "ipv4hint=\""+ip+"\"") {
			t.Errorf("node %s HTTPS %s: want its own address as the hint", ip, s)
		}
	}
	if got := texts(ask(ub.Addr, dns.TypeCAA)); !slices.Equal(got, wantCAA) {
		t.Errorf("through Unbound, CAA %v", got)
	}

	if out, err := tf(records("verification=two"), "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply of a changed TXT: %v\n%s", err, out)
	}
	for _, ip := range []string{lb1, lb2} {
		if got := texts(ask(ip+":53", dns.TypeTXT)); !slices.Equal(got, []string{"verification=two"}) {
			t.Errorf("node %s TXT after the change %v", ip, got)
		}
	}
	bad := r.config(nodes, []string{"lb1", "lb2"}, `caa = [{ tag = "is-sue", value = "letsencrypt.org" }]`)
	if out, err := tf(bad, "plan"); err == nil || !strings.Contains(out, "Invalid record") || !strings.Contains(out, `tag "is-sue"`) {
		t.Fatalf("a bad CAA tag planned: %v\n%s", err, out)
	}
	if out, err := tf(records("verification=two"), "destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy: %v\n%s", err, out)
	}
}

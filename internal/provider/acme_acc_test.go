package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestAccACMEChallenge: with acme_challenge every node answers
// _acme-challenge.<hostname> with a CNAME to the default target beside the
// hostname; a TXT record written there (as an ACME client does, by TSIG
// update to the parent) is what a validating resolver (real Unbound)
// returns for the challenge name. A target inside the hostname is refused
// at plan time.
func TestAccACMEChallenge(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.11.11", "127.0.11.12"
	r := newRig(t, lb1, lb2)
	ub := r.unbound("127.0.11.3")
	tf := terraformCLI(t)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	config := r.config(nodes, []string{"lb1", "lb2"}, "acme_challenge = true")
	if out, err := tf(config, "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	const target = "api._acme-challenge.example.test."
	for _, ip := range []string{lb1, lb2} {
		m := new(dns.Msg).SetQuestion("_acme-challenge.api.example.test.", dns.TypeTXT)
		resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, ip+":53")
		if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.CNAME).Target != target {
			t.Fatalf("node %s: %v %v", ip, resp, err)
		}
	}

	// The ACME client's write, at the target in the parent zone.
	rr, _ := dns.NewRR(target + " 60 IN TXT \"challenge-token-1234\"")
	up := new(dns.Msg)
	up.SetUpdate("example.test.")
	up.Insert([]dns.RR{rr})
	up.SetTsig(r.srv.KeyName, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{r.srv.KeyName: r.srv.KeySecret}}
	if resp, _, err := c.Exchange(up, r.srv.Addr); err != nil || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("writing the challenge TXT: %v %v", err, resp)
	}
	q := new(dns.Msg).SetQuestion("_acme-challenge.api.example.test.", dns.TypeTXT)
	resp, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(q, ub.Addr)
	if err != nil || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("resolver: %v %v", resp, err)
	}
	var sawCNAME, sawTXT bool
	for _, a := range resp.Answer {
		switch v := a.(type) {
		case *dns.CNAME:
			sawCNAME = v.Target == target
		case *dns.TXT:
			sawTXT = strings.Join(v.Txt, "") == "challenge-token-1234"
		}
	}
	if !sawCNAME || !sawTXT {
		t.Fatalf("the resolver does not lead the challenge name to the TXT record: %v", resp.Answer)
	}

	inside := r.config(nodes, []string{"lb1", "lb2"}, "acme_challenge = true\n  acme_challenge_target = \"x._acme-challenge.api.example.test\"")
	if out, err := tf(inside, "plan"); err == nil || !strings.Contains(out, "lies inside api.example.test.") {
		t.Fatalf("a target inside the hostname planned: %v\n%s", err, out)
	}
	if out, err := tf(config, "destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy: %v\n%s", err, out)
	}
}

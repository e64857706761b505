package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccHostnameSerial: reordering nodes (the same set) keeps the serial,
// so no node's zone changes; a zone changed on one agent is drift that the
// next apply repairs, leaving every node with one serial again.
func TestAccHostnameSerial(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.10.11", "127.0.10.12"
	r := newRig(t, lb1, lb2)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	const fqdn = "api.example.test."
	var serial string
	serials := func() ([]uint32, error) {
		var out []uint32
		for _, ip := range []string{lb1, lb2} {
			z, _, err := r.client(ip).GetZone(t.Context(), fqdn)
			if err != nil {
				return nil, err
			}
			out = append(out, z.Serial)
		}
		return out, nil
	}
	oneSerial := func(s *terraform.State) error {
		got, err := serials()
		if err != nil {
			return err
		}
		want := s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["serial"]
		for _, g := range got {
			if fmt.Sprint(g) != want {
				return fmt.Errorf("node serials %v, state serial %s: want one serial everywhere", got, want)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: r.config(nodes, []string{"lb1", "lb2"}, ""),
				Check: func(s *terraform.State) error {
					serial = s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["serial"]
					return oneSerial(s)
				},
			},
			{ // the same nodes in another order: same serial, nothing pushed anew
				Config: r.config(nodes, []string{"lb2", "lb1"}, ""),
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["serial"]; got != serial {
						return fmt.Errorf("reordering nodes changed the serial from %s to %s", serial, got)
					}
					return oneSerial(s)
				},
			},
			{ // lb2's zone changed on its agent: the next apply repairs it with one serial
				PreConfig: func() {
					z, _, err := r.client(lb2).GetZone(t.Context(), fqdn)
					if err != nil {
						t.Fatal(err)
					}
					b := z.Body()
					ttl := int64(99)
					b.AnswerTTL, b.Serial = &ttl, nil
					if _, _, err := r.client(lb2).PutZone(t.Context(), fqdn, b); err != nil {
						t.Fatal(err)
					}
				},
				Config: r.config(nodes, []string{"lb2", "lb1"}, ""),
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["serial"]; got == serial {
						return fmt.Errorf("the repair kept serial %s", got)
					}
					return oneSerial(s)
				},
			},
		},
	})
}

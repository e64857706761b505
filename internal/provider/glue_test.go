package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestMovedTarget(t *testing.T) {
	old := nodeModel{IPv4: types.StringValue("198.51.100.10"), IPv6: types.StringValue("2001:db8::10")}
	moved := nodeModel{IPv4: types.StringValue("203.0.113.20"), IPv6: types.StringValue("2001:db8::20")}
	for in, want := range map[string]string{
		"198.51.100.10:443":  "203.0.113.20:443",
		"[2001:db8::10]:443": "[2001:db8::20]:443",
		"127.0.0.1:443":      "127.0.0.1:443", // a local address stays
		"lb.internal:8080":   "lb.internal:8080",
	} {
		if got := movedTarget(in, old, moved); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

package provider

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
)

// clientsFrom takes the provider's Clients out of ProviderData; nil data
// (the provider is not configured yet) gives nil and no error.
func clientsFrom(data any, diags *diag.Diagnostics) *Clients {
	if data == nil {
		return nil
	}
	clients, ok := data.(*Clients)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T", data))
	}
	return clients
}

// ready reports an error when the provider could not be configured.
func ready(clients *Clients, diags *diag.Diagnostics) bool {
	if clients == nil {
		diags.AddError("Provider not configured", "The pmgtm provider has no parent-zone backend configured (its values may not be known yet).")
		return false
	}
	return true
}

// importZoneAndName sets zone and name from an import id "<zone>/<name>".
func importZoneAndName(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, example string) bool {
	zoneName, name, ok := strings.Cut(req.ID, "/")
	if !ok || zoneName == "" || name == "" || strings.Contains(name, "/") {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q: use <zone>/<name>, e.g. %s.", req.ID, example))
		return false
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("zone"), zoneName)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("adopt_existing"), false)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImporting, []byte("true"))...)
	return !resp.Diagnostics.HasError()
}

// nameserverAddrs finds a nameserver's addresses: from the parent zone when
// it lives there (what the DNS host holds, not what a cache remembers),
// else through the system resolver.
func nameserverAddrs(ctx context.Context, parent *parentzone.Manager, zone, ns string) ([]netip.Addr, error) {
	rel, inZone := strings.CutSuffix(ns, "."+zone)
	if !inZone {
		return probe.Resolve(ctx, ns)
	}
	s, err := parent.Lookup(ctx, zone, rel)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	for _, rec := range append(s.Of("A"), s.Of("AAAA")...) {
		if a, err := netip.ParseAddr(rec.Value); err == nil {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}

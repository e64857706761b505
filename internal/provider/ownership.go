package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Private-state keys. An import marks the resource "importing"; its first
// read records the holder of the marker it found as "takeover", which the
// next apply replaces with this resource's own marker: import is how a name
// moves between states, and the only way.
const (
	privateImporting = "importing"
	privateTakeOver  = "takeover"
	// privateSerialFloor is the highest serial a refresh saw on the nodes
	// when it found them drifted: the next serial must be above it.
	privateSerialFloor = "serial_floor"
	// privatePeerKey is the hostname's peer key (zone.PeerKey): made at
	// create, pushed to every node, never shown in plans.
	privatePeerKey = "peer_key"
)

// peerKey is the hostname's peer key; "" before one was made.
func peerKey(ctx context.Context, p privateReader) string {
	v, _ := p.GetKey(ctx, privatePeerKey)
	var key string
	_ = json.Unmarshal(v, &key)
	return key
}

// setPeerKey stores the key (private state values must be JSON).
func setPeerKey(ctx context.Context, p privateWriter, key string) diag.Diagnostics {
	v, _ := json.Marshal(key)
	return p.SetKey(ctx, privatePeerKey, v)
}

func setSerialFloor(ctx context.Context, p privateWriter, serial uint32) diag.Diagnostics {
	return p.SetKey(ctx, privateSerialFloor, []byte(fmt.Sprint(serial)))
}

func serialFloor(ctx context.Context, p privateReader) uint32 {
	v, _ := p.GetKey(ctx, privateSerialFloor)
	var n uint32
	_, _ = fmt.Sscan(string(v), &n)
	return n
}

type privateReader interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateWriter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func importing(ctx context.Context, p privateReader) bool {
	v, _ := p.GetKey(ctx, privateImporting)
	return len(v) > 0
}

func takeOver(ctx context.Context, p privateReader) *parentzone.Holder {
	v, _ := p.GetKey(ctx, privateTakeOver)
	if len(v) == 0 {
		return nil
	}
	var h parentzone.Holder
	if json.Unmarshal(v, &h) != nil {
		return nil
	}
	return &h
}

// setTakeOver records (or, with nil, forgets) the holder an import took
// over, and ends the import.
func setTakeOver(ctx context.Context, p privateWriter, h *parentzone.Holder) diag.Diagnostics {
	var value []byte
	if h != nil {
		value, _ = json.Marshal(h)
	}
	diags := p.SetKey(ctx, privateTakeOver, value)
	diags.Append(p.SetKey(ctx, privateImporting, nil)...)
	return diags
}

// plannedNames remembers the names this provider process plans to create,
// so that two resources of one configuration that would write the same
// name, or nest one hostname's delegation inside another, fail at plan
// time: neither has written anything yet, so the zone cannot tell.
type plannedNames struct {
	mu    sync.Mutex
	names map[string]map[string]string // zone -> relative name -> resource type
	// instances in this configuration's state, by "zone name", as refresh
	// and plan saw them: a create that meets one of their markers is the
	// replacement of that resource (its destroy comes first), not a clash.
	inState map[string][]string
}

func stateKey(zoneName, name string) string {
	z, _ := zone.CanonicalName(zoneName)
	return z + " " + strings.ToLower(name)
}

// sawInState records a resource instance of this configuration's state.
func (p *plannedNames) sawInState(zoneName, name string, instance types.String) {
	if instance.IsNull() || instance.IsUnknown() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inState == nil {
		p.inState = map[string][]string{}
	}
	k := stateKey(zoneName, name)
	p.inState[k] = append(p.inState[k], instance.ValueString())
}

func (p *plannedNames) replacing(zoneName, name, instance string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, i := range p.inState[stateKey(zoneName, name)] {
		if i == instance {
			return true
		}
	}
	return false
}

// claim records that a resource of kind ("pmgtm_node", "pmgtm_hostname")
// plans to create name in zoneName, or explains the clash.
func (p *plannedNames) claim(zoneName, name, kind string) error {
	z, err := zone.CanonicalName(zoneName)
	if err != nil {
		return nil // reported by validation
	}
	name = strings.ToLower(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names == nil {
		p.names = map[string]map[string]string{}
	}
	if p.names[z] == nil {
		p.names[z] = map[string]string{}
	}
	fq := func(n string) string { return n + "." + z }
	for other, otherKind := range p.names[z] {
		switch {
		case other == name:
			return fmt.Errorf("another %s in this configuration also creates %s; each name can belong to one resource only. Remove one of them, or give it another name", otherKind, fq(name))
		case kind == "pmgtm_hostname" && strings.HasSuffix(other, "."+name):
			return fmt.Errorf("the %s %s in this configuration lies beneath this hostname, whose delegation would hide it; choose names outside each other", otherKind, fq(other))
		case otherKind == "pmgtm_hostname" && strings.HasSuffix(name, "."+other):
			return fmt.Errorf("this name lies beneath the hostname %s of this configuration, whose delegation would hide it; choose a name outside %s", fq(other), fq(other))
		}
	}
	p.names[z][name] = kind
	return nil
}

func instanceIDAttribute() schema.StringAttribute {
	return schema.StringAttribute{Computed: true,
		MarkdownDescription: "Random id of this resource instance, made at create and written into the ownership marker " +
			"beside the owner id, so that another state (workspace, stack, copied directory) or another resource " +
			"with the same name cannot take the name over. Import gives a name a new instance id.",
		// Made once, at create; a change would orphan the marker.
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

func ownerMarkerAttribute() schema.StringAttribute {
	return schema.StringAttribute{Computed: true,
		MarkdownDescription: "The ownership marker (`<name>._pmgtm.<zone>` TXT) as found at the last refresh. A plan that " +
			"changes it means the marker was lost or rewritten outside Terraform: apply writes it again, or refuses " +
			"when another owner or instance holds the name now."}
}

// readClaim is what a refresh may act as. It gives a state without an
// instance id (an earlier release, or an import) one, and during an import
// records the holder of the marker found, which the next apply takes over.
func readClaim(ctx context.Context, instance *types.String, req privateReader, resp privateWriter, s parentzone.NameState, diags *diag.Diagnostics) (parentzone.EnsureOptions, bool) {
	if instance.IsNull() || instance.IsUnknown() || instance.ValueString() == "" {
		*instance = types.StringValue(parentzone.NewInstanceID())
	}
	claim := parentzone.EnsureOptions{Instance: instance.ValueString(), InState: true, TakeOver: takeOver(ctx, req)}
	isImport := importing(ctx, req)
	if isImport {
		claim.TakeOver = nil
		if s.Marked() {
			h := s.Holder()
			claim.TakeOver = &h
		}
		diags.Append(setTakeOver(ctx, resp, claim.TakeOver)...)
	}
	return claim, isImport
}

// stateClaim is what an update or delete acts as: the instance in state,
// the holder an import took over, and the records the state says it wrote.
func stateClaim(ctx context.Context, instance types.String, p privateReader, wrote []parentzone.RRSet) parentzone.EnsureOptions {
	return parentzone.EnsureOptions{Instance: instance.ValueString(), InState: true, TakeOver: takeOver(ctx, p), Wrote: wrote}
}

// planOwnerMarker is the marker an update leaves in place. When the
// marker found at refresh names someone else, plan says so: apply will
// refuse to act on the name.
func planOwnerMarker(ctx context.Context, parent *parentzone.Manager, instance, found types.String, p privateReader, diags *diag.Diagnostics, rtypes ...string) types.String {
	if instance.IsNull() || instance.IsUnknown() {
		return types.StringUnknown()
	}
	want := parent.MarkerFor(instance.ValueString(), rtypes...)
	if text := found.ValueString(); text != "" && text != want {
		if h, ok := parentzone.ParseMarker(text); ok {
			claim := parentzone.EnsureOptions{Instance: instance.ValueString(), InState: true, TakeOver: takeOver(ctx, p)}
			if !parent.MayHold(h, claim) {
				diags.AddAttributeWarning(path.Root("owner_marker"), "Name held by another pmgtm resource",
					fmt.Sprintf("The ownership marker now names %s, not this resource (instance %s). Apply will refuse to change the name; destroy will leave it alone. If the name moved to another state on purpose, terraform state rm this resource here.", h, instance.ValueString()))
			}
		}
	}
	return types.StringValue(want)
}

// planCreate checks, before a create, that no other resource of this
// configuration plans the same (or a nested) name and that the parent zone
// holds nothing in the way; errors attach to name.
func planCreate(ctx context.Context, c *Clients, kind, zoneName, name string, rtypes []string, adopt bool, diags *diag.Diagnostics) {
	if err := c.planned.claim(zoneName, name, kind); err != nil {
		diags.AddAttributeError(path.Root("name"), "Name planned twice", err.Error()+".")
		return
	}
	// A fresh instance id matches no marker: a create may take over nothing.
	err := c.Parent.Check(ctx, zoneName, name, rtypes, parentzone.EnsureOptions{Adopt: adopt, Instance: parentzone.NewInstanceID()})
	var conflict *parentzone.ConflictError
	var held *parentzone.HeldError
	var auth *parentzone.AuthError
	switch {
	case errors.As(err, &held) && held.Holder.Owner == c.Parent.Owner() && c.planned.replacing(zoneName, name, held.Holder.Instance):
		// The resource that holds it is being replaced in this plan.
	case errors.As(err, &held):
		diags.AddAttributeError(path.Root("name"), "Name held by another pmgtm resource", err.Error())
	case errors.As(err, &conflict):
		diags.AddAttributeError(path.Root("name"), "Conflicting records in the parent zone", err.Error())
	case errors.As(err, &auth):
		// The backend will refuse every write: no apply can succeed.
		diags.AddError("Cannot use the parent zone", fmt.Sprintf("%s.\nFix the provider's backend setting %s.", err, auth.Attribute))
	case err != nil:
		diags.AddWarning("Could not check the parent zone", "Conflicting records will be reported at apply: "+err.Error())
	}
}

// releaseState reports the outcome of a Release: a name held by someone
// else now is left alone, which is a warning, not a failed destroy.
func releaseState(err error, what string, diags *diag.Diagnostics) {
	var held *parentzone.HeldError
	switch {
	case errors.As(err, &held):
		diags.AddWarning("Left "+what+" alone", err.Error()+"\nThe resource is removed from this state only.")
	case err != nil:
		diags.AddError("Cannot delete "+what, err.Error())
	}
}

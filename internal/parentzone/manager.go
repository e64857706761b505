package parentzone

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libdns/libdns"
)

// Backend is a parent-zone host (RFC 2136, Cloudflare, Route 53): the
// smallest combination of libdns interfaces pmgtm needs: list a zone, add
// records, delete exactly the records given.
type Backend interface {
	libdns.RecordGetter
	libdns.RecordAppender
	libdns.RecordDeleter
}

// RRSet is the wanted content of one type at a name. Empty Values means
// "none of this type", and still marks the type as pmgtm's to manage.
type RRSet struct {
	Type   string
	TTL    uint32
	Values []string
}

// NameState is what the parent zone holds at one name.
type NameState struct {
	Markers []Marker // ownership markers beside the name (normally none or one)
	Records []Record // every record at the name (any type, any owner)
}

// Marker is one ownership marker as found in the zone.
type Marker struct {
	Holder Holder
	Text   string
}

// Has reports whether any record at the name is one of sets.
func (s NameState) Has(sets []RRSet) bool {
	return slices.ContainsFunc(s.Records, func(r Record) bool { return wrote(sets, r) })
}

// Marked reports whether the name carries an ownership marker.
func (s NameState) Marked() bool { return len(s.Markers) > 0 }

// Holder is the holder named by the name's marker; the zero Holder when
// unmarked.
func (s NameState) Holder() Holder {
	if len(s.Markers) == 0 {
		return Holder{}
	}
	return s.Markers[0].Holder
}

// MarkerText is the value of the name's marker, "" when unmarked.
func (s NameState) MarkerText() string {
	if len(s.Markers) == 0 {
		return ""
	}
	return s.Markers[0].Text
}

// Of returns the records of one type, sorted by value.
func (s NameState) Of(rtype string) []Record {
	var out []Record
	for _, r := range s.Records {
		if r.Type == rtype {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// signerTypes are the records a DNSSEC signer keeps by itself (RFC 4034,
// RFC 5155, RFC 7344, and BIND's private signing-state type): they belong to
// no one's data, are never a conflict and are never changed by pmgtm. DS is
// not among them: at a delegation it is the user's record.
var signerTypes = map[string]bool{
	"RRSIG": true, "NSEC": true, "NSEC3": true, "NSEC3PARAM": true, "DNSKEY": true, "CDS": true, "CDNSKEY": true,
	"TYPE65534": true,
}

// Calls counts what the manager asked of the backend.
type Calls struct {
	List, Append, Delete atomic.Int64
	Change               atomic.Int64 // deletions and additions in one call (Changer)
}

// Manager reads and changes one backend's zones on behalf of one owner id.
// It is safe for concurrent use; changes within a zone are serialised.
type Manager struct {
	provider Backend
	owner    string
	backoff  Backoff
	Calls    Calls
	// Trace, when set, sees every backend call; OnRetry every retry.
	Trace   func(context.Context, Call)
	OnRetry func(context.Context, RetryEvent)

	mu    sync.Mutex
	zones map[string]*zoneCache
}

// zoneCache holds a zone's records for one run (one provider process), so
// refreshing N resources in a zone lists it once.
type zoneCache struct {
	mu      sync.Mutex // held across read-modify-write in this zone
	loaded  bool
	probed  bool // the backend may write the zone (WriteProber)
	records []Record
}

// replace takes the records gone out of the cache and puts added in, after
// a write that did so.
func (z *zoneCache) replace(gone, added []Record) {
	keys := map[recordKey]bool{}
	for _, r := range gone {
		keys[r.key()] = true
	}
	z.records = append(slices.DeleteFunc(z.records, func(r Record) bool { return keys[r.key()] }), added...)
}

// NewManager returns a manager for provider acting as owner.
func NewManager(provider Backend, owner string, backoff Backoff) (*Manager, error) {
	if err := ValidOwner(owner); err != nil {
		return nil, err
	}
	return &Manager{provider: provider, owner: owner, backoff: backoff, zones: map[string]*zoneCache{}}, nil
}

// Owner is the owner id this manager writes into markers.
func (m *Manager) Owner() string { return m.owner }

func (m *Manager) zone(zone string) *zoneCache {
	zone = fqdn(zone)
	m.mu.Lock()
	defer m.mu.Unlock()
	z := m.zones[zone]
	if z == nil {
		z = &zoneCache{}
		m.zones[zone] = z
	}
	return z
}

// load lists the zone unless it is cached. Callers hold z.mu.
func (m *Manager) load(ctx context.Context, zone string, z *zoneCache) error {
	if z.loaded {
		return nil
	}
	var listed []libdns.Record
	err := m.retry(ctx, func() error {
		m.Calls.List.Add(1)
		return m.traced(ctx, "list", zone, nil, func() error {
			var err error
			listed, err = m.provider.GetRecords(ctx, fqdn(zone))
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("listing zone %s: %w", zone, err)
	}
	z.records = z.records[:0]
	for _, rec := range listed {
		if r := fromLibdns(rec); !signerTypes[r.Type] {
			z.records = append(z.records, r)
		}
	}
	z.loaded = true
	return nil
}

// Forget drops the cached records of zone, so the next read lists it again.
func (m *Manager) Forget(zone string) {
	z := m.zone(zone)
	z.mu.Lock()
	z.loaded = false
	z.mu.Unlock()
}

// Lookup returns what the zone holds at name (relative), from the cache.
func (m *Manager) Lookup(ctx context.Context, zone, name string) (NameState, error) {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := m.load(ctx, zone, z); err != nil {
		return NameState{}, err
	}
	return stateAt(z.records, name), nil
}

func stateAt(records []Record, name string) NameState {
	var s NameState
	mname := MarkerName(name)
	for _, r := range records {
		switch {
		case r.Name == name:
			s.Records = append(s.Records, r)
		case r.Name == mname && r.Type == "TXT":
			if h, ok := ParseMarker(r.Value); ok {
				s.Markers = append(s.Markers, Marker{Holder: h, Text: r.Value})
			}
		}
	}
	return s
}

// EnsureOptions say who acts on a name and on what grounds.
type EnsureOptions struct {
	// Adopt takes over existing unmarked records of the wanted types
	// instead of reporting them as a conflict.
	Adopt bool
	// Instance is the instance id of the acting resource, written into the
	// marker beside the owner id.
	Instance string
	// InState is set when the resource already exists in Terraform state:
	// it may then take over a marker of its own owner id that has no
	// instance id (written by an earlier release).
	InState bool
	// TakeOver is the holder whose marker this resource took over
	// explicitly, by terraform import.
	TakeOver *Holder
	// Wrote is what the resource's state says it wrote at the name. Only
	// these records are deleted by Release, and unmarked records equal to
	// them are the resource's own (its marker was lost), not a conflict.
	Wrote []RRSet
}

func (m *Manager) holder(o EnsureOptions) Holder { return Holder{Owner: m.owner, Instance: o.Instance} }

// MayHold reports whether o's resource may act on a name whose marker
// names h: h is the resource itself, the holder it took over by import,
// or (for a resource in state) its own owner without an instance id.
func (m *Manager) MayHold(h Holder, o EnsureOptions) bool {
	me := m.holder(o)
	return h == me || o.TakeOver != nil && h == *o.TakeOver || h.Owner == m.owner && h.Instance == "" && o.InState
}

// mayAct reports, as a HeldError, a marker at the name that o's resource
// may not hold.
func (m *Manager) mayAct(zone, name string, s NameState, o EnsureOptions) error {
	for _, mk := range s.Markers {
		if !m.MayHold(mk.Holder, o) {
			return &HeldError{Zone: zone, Name: name, Holder: mk.Holder, Marker: mk.Text, Me: m.holder(o), Creating: !o.InState}
		}
	}
	return nil
}

// wrote reports whether r is one of the records in sets.
func wrote(sets []RRSet, r Record) bool {
	for _, w := range sets {
		if w.Type != r.Type {
			continue
		}
		for _, v := range w.Values {
			if normalValue(w.Type, v) == r.Value {
				return true
			}
		}
	}
	return false
}

// Ensure makes the records of each wanted type at name exactly want, as
// pmgtm's. It refuses (ConflictError) when the name or the types belong to
// someone else; otherwise it writes the ownership marker first, adds
// missing records before it deletes surplus ones (an NS set never loses a
// member it keeps), and touches no record of another type. A failed
// attempt that may be retried (rate limits, 5xx, timeouts) is retried with
// backoff after listing the zone again.
func (m *Manager) Ensure(ctx context.Context, zone, name string, want []RRSet, opts EnsureOptions) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	return m.retry(ctx, func() error {
		if err := m.load(ctx, zone, z); err != nil {
			return err
		}
		err := m.ensureOnce(ctx, zone, name, want, opts, z)
		if err != nil {
			z.loaded = false // the zone may hold part of the change: list it again
		}
		return err
	})
}

func (m *Manager) ensureOnce(ctx context.Context, zone, name string, want []RRSet, opts EnsureOptions, z *zoneCache) error {
	state := stateAt(z.records, name)
	var types []string
	for _, w := range want {
		types = append(types, w.Type)
	}
	slices.Sort(types)
	if err := m.checkConflicts(zone, name, state, types, z.records, opts); err != nil {
		return err
	}
	text := MarkerText(m.holder(opts), types)
	if c, ok := m.provider.(Changer); ok {
		return m.changeAtOnce(ctx, c, zone, name, text, want, state, opts, z)
	}
	if len(state.Markers) != 1 || state.Markers[0].Text != text {
		if err := m.writeMarker(ctx, zone, name, text, opts, z); err != nil {
			return err
		}
	}
	for _, w := range want {
		if err := m.syncType(ctx, zone, name, w, state.Of(w.Type), z); err != nil {
			return err
		}
	}
	return nil
}

// Changer is a backend that applies deletions and additions together, as
// one atomic change (an RFC 2136 UPDATE message carries both): a name's
// marker and its whole NS change then cost one round trip, and no reader
// ever sees a state between them.
type Changer interface {
	// ChangeRecords returns add as created (with the host's ids, for a
	// later delete by id).
	ChangeRecords(ctx context.Context, zone string, del, add []libdns.Record) ([]libdns.Record, error)
}

// changeAtOnce makes name's marker text and want in one Changer call.
func (m *Manager) changeAtOnce(ctx context.Context, c Changer, zone, name, text string, want []RRSet, state NameState, opts EnsureOptions, z *zoneCache) error {
	var del, add []Record
	mk := Record{Name: MarkerName(name), Type: "TXT", TTL: markerTTL, Value: text}
	if k := mk.key(); !slices.ContainsFunc(z.records, func(r Record) bool { return r.key() == k }) {
		add = append(add, mk)
	}
	del = slices.DeleteFunc(m.ownMarkers(name, opts, z.records), func(r Record) bool { return r.Value == text })
	var types []string
	for _, w := range want {
		d, a := diffSet(name, w, state.Of(w.Type))
		del, add = append(del, d...), append(add, a...)
		types = append(types, w.Type)
	}
	if err := m.change(ctx, c, zone, del, add, z); err != nil {
		return fmt.Errorf("writing the ownership marker and the %s records at %s: %w", strings.Join(types, ", "), fqName(name, zone), err)
	}
	return nil
}

// diffSet lists what turns have into w: a TTL change is the value deleted
// and added again, which one atomic change makes without a gap.
func diffSet(name string, w RRSet, have []Record) (del, add []Record) {
	wanted := map[string]bool{}
	for _, v := range w.Values {
		r := Record{Name: name, Type: w.Type, TTL: w.TTL, Value: normalValue(w.Type, v)}
		wanted[r.Value] = true
		i := slices.IndexFunc(have, func(h Record) bool { return h.Value == r.Value })
		if i < 0 || have[i].TTL != w.TTL {
			add = append(add, r)
		}
		if i >= 0 && have[i].TTL != w.TTL {
			del = append(del, have[i])
		}
	}
	for _, h := range have {
		if !wanted[h.Value] {
			del = append(del, h)
		}
	}
	return del, add
}

// change applies del and add in one call and updates the cache.
func (m *Manager) change(ctx context.Context, c Changer, zone string, del, add []Record, z *zoneCache) error {
	if len(del) == 0 && len(add) == 0 {
		return nil
	}
	nativeDel, err := toNative(del)
	if err != nil {
		return err
	}
	nativeAdd, err := toNative(add)
	if err != nil {
		return err
	}
	m.Calls.Change.Add(1)
	var created []libdns.Record
	if err := m.traced(ctx, "change", zone, append(slices.Clip(del), add...), func() error {
		var err error
		created, err = c.ChangeRecords(ctx, fqdn(zone), nativeDel, nativeAdd)
		return err
	}); err != nil {
		return err
	}
	if len(created) == len(add) {
		for i := range add {
			add[i].native = created[i]
		}
	}
	z.replace(del, add)
	return nil
}

// WriteProber is a backend that can tell, changing nothing, whether its
// credentials may write a zone.
type WriteProber interface {
	ProbeWrite(ctx context.Context, zone string) error
}

// Check reports, without writing anything, the conflict that Ensure of
// these types at name would meet, and (once per zone) whether the backend
// may write the zone at all; the provider calls it at plan time.
func (m *Manager) Check(ctx context.Context, zone, name string, types []string, opts EnsureOptions) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := m.load(ctx, zone, z); err != nil {
		return err
	}
	if p, ok := m.provider.(WriteProber); ok && !z.probed {
		if err := p.ProbeWrite(ctx, fqdn(zone)); err != nil {
			return err
		}
		z.probed = true
	}
	types = slices.Sorted(slices.Values(types))
	return m.checkConflicts(zone, name, stateAt(z.records, name), types, z.records, opts)
}

// checkConflicts lists every foreign record that stands in the way, after
// checking that the name is not held by someone else.
func (m *Manager) checkConflicts(zone, name string, state NameState, types []string, all []Record, opts EnsureOptions) error {
	if err := m.mayAct(zone, name, state, opts); err != nil {
		return err
	}
	// On a name we hold, the wanted types are ours to converge; on an
	// unmarked one, only what our state says we wrote.
	ours := func(r Record) bool {
		return state.Marked() && slices.Contains(types, r.Type) || wrote(opts.Wrote, r)
	}
	delegating := slices.Contains(types, "NS")
	var conflicts []Record
	reason := "records of the types pmgtm manages already exist"
	for _, r := range state.Records {
		switch {
		case ours(r):
		case r.Type == "CNAME":
			conflicts = append(conflicts, r) // a CNAME forbids any other data at the name
		case slices.Contains(types, r.Type):
			if !opts.Adopt {
				conflicts = append(conflicts, r)
			}
		case delegating && r.Type != "DS":
			// Data beside a delegation would be hidden by it.
			conflicts = append(conflicts, r)
			reason = "a delegated name can hold no data but NS and DS"
		case !delegating && r.Type == "NS":
			conflicts = append(conflicts, r)
			reason = "the name is delegated elsewhere"
		}
	}
	for _, r := range all {
		switch {
		case r.Type == "NS" && r.Name != "@" && beneath(name, r.Name):
			// The parent answers nothing at or below a zone cut but the
			// referral (RFC 1034 4.2.1): records there are never served.
			conflicts = append(conflicts, r)
			reason = fmt.Sprintf("it lies beneath the delegation of %s, where the parent zone never answers; choose a name outside %s", fqName(r.Name, zone), fqName(r.Name, zone))
		case delegating && beneath(r.Name, name):
			conflicts = append(conflicts, r)
			reason = "names beneath a delegation would be hidden by it"
		}
	}
	if len(conflicts) > 0 {
		return &ConflictError{Zone: zone, Name: name, Records: conflicts, Reason: reason, Adopting: opts.Adopt}
	}
	return nil
}

// writeMarker replaces the markers at name (all of them ours, as
// checkConflicts made sure) with one of the given text.
func (m *Manager) writeMarker(ctx context.Context, zone, name, text string, opts EnsureOptions, z *zoneCache) error {
	mk := Record{Name: MarkerName(name), Type: "TXT", TTL: markerTTL, Value: text}
	old := m.ownMarkers(name, opts, z.records)
	old = slices.DeleteFunc(old, func(r Record) bool { return r.Value == text })
	if k := mk.key(); !slices.ContainsFunc(z.records, func(r Record) bool { return r.key() == k }) {
		if err := m.add(ctx, zone, []Record{mk}, z); err != nil {
			return fmt.Errorf("writing ownership marker %s: %w", fqName(mk.Name, zone), err)
		}
	}
	if err := m.remove(ctx, zone, old, z); err != nil {
		return fmt.Errorf("replacing ownership marker %s: %w", fqName(mk.Name, zone), err)
	}
	return nil
}

// ownMarkers returns the marker records at name that o's resource may
// replace or delete.
func (m *Manager) ownMarkers(name string, o EnsureOptions, records []Record) []Record {
	var out []Record
	for _, r := range records {
		if r.Name != MarkerName(name) || r.Type != "TXT" {
			continue
		}
		if h, ok := ParseMarker(r.Value); ok && m.MayHold(h, o) {
			out = append(out, r)
		}
	}
	return out
}

// syncType makes one type at name w for a backend without Changer, one
// call at a time: a TTL change is the value deleted and added again, one
// value at a time so the set's other members keep answering; then the
// additions, then the deletions, so an NS set never loses a member it keeps.
func (m *Manager) syncType(ctx context.Context, zone, name string, w RRSet, have []Record, z *zoneCache) error {
	del, add := diffSet(name, w, have)
	var fresh []Record // added values that are not a TTL change
	for _, a := range add {
		i := slices.IndexFunc(del, func(d Record) bool { return d.Value == a.Value })
		if i < 0 {
			fresh = append(fresh, a)
			continue
		}
		if err := m.remove(ctx, zone, del[i:i+1], z); err != nil {
			return fmt.Errorf("changing TTL of %s: %w", del[i], err)
		}
		if err := m.add(ctx, zone, []Record{a}, z); err != nil {
			return fmt.Errorf("changing TTL of %s: %w", a, err)
		}
		del = slices.Delete(del, i, i+1)
	}
	add = fresh
	if err := m.add(ctx, zone, add, z); err != nil {
		return fmt.Errorf("adding %s records at %s: %w", w.Type, fqName(name, zone), err)
	}
	if err := m.remove(ctx, zone, del, z); err != nil {
		return fmt.Errorf("deleting %s records at %s: %w", w.Type, fqName(name, zone), err)
	}
	return nil
}

// Release deletes the records opts.Wrote lists at name (what the
// resource's state says it wrote; nothing else, whatever a marker claims),
// then the resource's marker. A name held by someone else is left alone and
// reported as a HeldError: it moved to another state by import, or was
// taken.
func (m *Manager) Release(ctx context.Context, zone, name string, opts EnsureOptions) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	return m.retry(ctx, func() error {
		if err := m.load(ctx, zone, z); err != nil {
			return err
		}
		state := stateAt(z.records, name)
		if err := m.mayAct(zone, name, state, opts); err != nil {
			return err
		}
		var ours []Record
		for _, r := range state.Records {
			if wrote(opts.Wrote, r) {
				ours = append(ours, r)
			}
		}
		var err error
		if c, ok := m.provider.(Changer); ok {
			err = m.change(ctx, c, zone, append(ours, m.ownMarkers(name, opts, z.records)...), nil, z)
		} else if err = m.remove(ctx, zone, ours, z); err == nil {
			err = m.remove(ctx, zone, m.ownMarkers(name, opts, z.records), z)
		}
		if err != nil {
			z.loaded = false
			return fmt.Errorf("releasing %s: %w", fqName(name, zone), err)
		}
		return nil
	})
}

// Referral is a name in the zone whose NS set names a nameserver.
type Referral struct {
	Name  string
	State NameState
}

// Referrals lists the names in zone whose NS records name nameserver
// (fully qualified), so that a node can leave them before its address goes.
func (m *Manager) Referrals(ctx context.Context, zone, nameserver string) ([]Referral, error) {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := m.load(ctx, zone, z); err != nil {
		return nil, err
	}
	target := fqdn(nameserver)
	var names []string
	for _, r := range z.records {
		if r.Type == "NS" && r.Name != "@" && r.Value == target && !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	slices.Sort(names)
	out := make([]Referral, 0, len(names))
	for _, n := range names {
		out = append(out, Referral{Name: n, State: stateAt(z.records, n)})
	}
	return out, nil
}

// RemoveNameserver deletes the one NS record at name that names
// nameserver, on a name whose every marker carries this manager's owner id
// (a hostname of this configuration), and never the last member of the set.
func (m *Manager) RemoveNameserver(ctx context.Context, zone, name, nameserver string) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	target := fqdn(nameserver)
	return m.retry(ctx, func() error {
		if err := m.load(ctx, zone, z); err != nil {
			return err
		}
		state := stateAt(z.records, name)
		if !state.Marked() {
			return &HeldError{Zone: zone, Name: name, Me: Holder{Owner: m.owner}}
		}
		for _, mk := range state.Markers {
			if mk.Holder.Owner != m.owner {
				return &HeldError{Zone: zone, Name: name, Holder: mk.Holder, Marker: mk.Text, Me: Holder{Owner: m.owner}}
			}
		}
		ns := state.Of("NS")
		i := slices.IndexFunc(ns, func(r Record) bool { return r.Value == target })
		switch {
		case i < 0:
			return nil
		case len(ns) == 1:
			return &LastNameserverError{Zone: zone, Name: name, Nameserver: target}
		}
		if err := m.remove(ctx, zone, ns[i:i+1], z); err != nil {
			z.loaded = false
			return fmt.Errorf("removing %s from the NS set of %s: %w", target, fqName(name, zone), err)
		}
		return nil
	})
}

func (m *Manager) add(ctx context.Context, zone string, recs []Record, z *zoneCache) error {
	var created []libdns.Record
	err := m.write(ctx, "append", &m.Calls.Append, zone, recs, func(native []libdns.Record) (err error) {
		created, err = m.provider.AppendRecords(ctx, fqdn(zone), native)
		return err
	})
	if err != nil || len(recs) == 0 {
		return err
	}
	if len(created) == len(recs) {
		for i := range recs {
			recs[i].native = created[i]
		}
	}
	z.records = append(z.records, recs...)
	return nil
}

func (m *Manager) remove(ctx context.Context, zone string, recs []Record, z *zoneCache) error {
	err := m.write(ctx, "delete", &m.Calls.Delete, zone, recs, func(native []libdns.Record) error {
		_, err := m.provider.DeleteRecords(ctx, fqdn(zone), native)
		return err
	})
	if err != nil || len(recs) == 0 {
		return err
	}
	z.replace(recs, nil)
	return nil
}

// write sends recs to the backend through call (counted and traced as
// op); nothing to write is no call at all.
func (m *Manager) write(ctx context.Context, op string, count *atomic.Int64, zone string, recs []Record, call func([]libdns.Record) error) error {
	if len(recs) == 0 {
		return nil
	}
	native, err := toNative(recs)
	if err != nil {
		return err
	}
	count.Add(1)
	return m.traced(ctx, op, zone, recs, func() error { return call(native) })
}

// toNative renders records for the backend, reusing the form a record was
// listed in so that deletes match exactly what exists.
func toNative(recs []Record) ([]libdns.Record, error) {
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		if r.native != nil {
			out = append(out, r.native)
			continue
		}
		n, err := r.toLibdns()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func normalValue(rtype, v string) string {
	r := fromLibdns(libdns.RR{Type: rtype, Data: v})
	return r.Value
}

// Call is one request of the manager to the backend, for Manager.Trace.
type Call struct {
	Op      string // list, append, delete or replace
	Zone    string
	Records []string // what was written or deleted, "name TTL TYPE value"
	Took    time.Duration
	Err     error
}

// RetryEvent is a failed attempt about to be retried, for Manager.OnRetry.
type RetryEvent struct {
	Attempt int // 1 for the first failure
	Delay   time.Duration
	Err     error
}

func (m *Manager) traced(ctx context.Context, op, zone string, recs []Record, fn func() error) error {
	start := time.Now()
	err := withContext(ctx, fn)
	if m.Trace != nil {
		c := Call{Op: op, Zone: zone, Took: time.Since(start), Err: err}
		for _, r := range recs {
			c.Records = append(c.Records, r.String())
		}
		m.Trace(ctx, c)
	}
	return err
}

func (m *Manager) retry(ctx context.Context, fn func() error) error {
	return m.backoff.retry(ctx, fn, func(attempt int, delay time.Duration, err error) {
		if m.OnRetry != nil {
			m.OnRetry(ctx, RetryEvent{Attempt: attempt, Delay: delay, Err: err})
		}
	})
}

// withContext returns when fn does or when ctx ends, whichever is first:
// some libraries (the RFC 2136 zone transfer) honour a deadline only at
// dial time. A call left running finishes on its library's own timeouts.
func withContext(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Permits reports, as a HeldError, when o's resource may not act on a name
// in state s; nil when it may.
func (m *Manager) Permits(zone, name string, s NameState, o EnsureOptions) error {
	return m.mayAct(zone, name, s, o)
}

// MarkerFor is the marker text this manager writes for instance and types.
func (m *Manager) MarkerFor(instance string, types ...string) string {
	return MarkerText(Holder{Owner: m.owner, Instance: instance}, slices.Sorted(slices.Values(types)))
}

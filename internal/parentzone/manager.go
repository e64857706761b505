package parentzone

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/libdns/libdns"
)

// Provider is the smallest combination of libdns interfaces pmgtm needs:
// list a zone, add records, delete exactly the records given.
type Provider interface {
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
	Owner      string   // owner id in the ownership marker; "" when unmarked
	OwnedTypes []string // types the marker claims
	Records    []Record // every record at the name (any type, any owner)
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

// Calls counts what the manager asked of the backend.
type Calls struct {
	List, Append, Delete atomic.Int64
}

// Manager reads and changes one backend's zones on behalf of one owner id.
// It is safe for concurrent use; changes within a zone are serialised.
type Manager struct {
	provider Provider
	owner    string
	backoff  Backoff
	Calls    Calls

	mu    sync.Mutex
	zones map[string]*zoneCache
}

// zoneCache holds a zone's records for one run (one provider process), so
// refreshing N resources in a zone lists it once.
type zoneCache struct {
	mu      sync.Mutex // held across read-modify-write in this zone
	loaded  bool
	records []Record
}

// NewManager returns a manager for provider acting as owner.
func NewManager(provider Provider, owner string, backoff Backoff) (*Manager, error) {
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
	err := m.backoff.Retry(ctx, func() error {
		m.Calls.List.Add(1)
		return withContext(ctx, func() error {
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
		z.records = append(z.records, fromLibdns(rec))
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
			if mk, ok := parseMarker(r.Value); ok {
				s.Owner, s.OwnedTypes = mk.owner, mk.types
			}
		}
	}
	return s
}

// EnsureOptions tune Ensure.
type EnsureOptions struct {
	// Adopt takes over existing unmarked records of the wanted types
	// instead of reporting them as a conflict.
	Adopt bool
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
	return m.backoff.Retry(ctx, func() error {
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
	if state.Owner != m.owner || !slices.Equal(state.OwnedTypes, types) {
		if err := m.writeMarker(ctx, zone, name, types, z); err != nil {
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

// Check reports, without writing anything, the conflict that Ensure of
// these types at name would meet; the provider calls it at plan time.
func (m *Manager) Check(ctx context.Context, zone, name string, types []string, opts EnsureOptions) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := m.load(ctx, zone, z); err != nil {
		return err
	}
	types = slices.Sorted(slices.Values(types))
	return m.checkConflicts(zone, name, stateAt(z.records, name), types, z.records, opts)
}

// checkConflicts lists every foreign record that stands in the way.
func (m *Manager) checkConflicts(zone, name string, state NameState, types []string, all []Record, opts EnsureOptions) error {
	if state.Owner != "" && state.Owner != m.owner {
		return &ConflictError{Zone: zone, Name: name, Records: []Record{{Name: MarkerName(name), Type: "TXT",
			Value: marker{owner: state.Owner, types: state.OwnedTypes}.text()}},
			Reason: fmt.Sprintf("it belongs to another pmgtm owner (%q; this provider is %q)", state.Owner, m.owner)}
	}
	ours := func(t string) bool { return state.Owner == m.owner && slices.Contains(state.OwnedTypes, t) }
	delegating := slices.Contains(types, "NS")
	var conflicts []Record
	reason := "records of the types pmgtm manages already exist"
	for _, r := range state.Records {
		switch {
		case ours(r.Type):
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
	if delegating {
		for _, r := range all {
			if beneath(r.Name, name) && (r.Type != "TXT" || r.Name != MarkerName(name)) {
				conflicts = append(conflicts, r)
				reason = "names beneath a delegation would be hidden by it"
			}
		}
	}
	if len(conflicts) > 0 {
		return &ConflictError{Zone: zone, Name: name, Records: conflicts, Reason: reason}
	}
	return nil
}

// writeMarker replaces our marker at name with one claiming types.
func (m *Manager) writeMarker(ctx context.Context, zone, name string, types []string, z *zoneCache) error {
	mk := Record{Name: MarkerName(name), Type: "TXT", TTL: markerTTL, Value: marker{owner: m.owner, types: types}.text()}
	var old []Record
	for _, r := range z.records {
		if r.Name == mk.Name && r.Type == "TXT" && r.Value != mk.Value {
			if o, ok := parseMarker(r.Value); ok && o.owner == m.owner {
				old = append(old, r)
			}
		}
	}
	if !slices.ContainsFunc(z.records, func(r Record) bool { return r.key() == mk.key() }) {
		if err := m.add(ctx, zone, []Record{mk}, z); err != nil {
			return fmt.Errorf("writing ownership marker %s: %w", fqName(mk.Name, zone), err)
		}
	}
	if err := m.remove(ctx, zone, old, z); err != nil {
		return fmt.Errorf("replacing ownership marker %s: %w", fqName(mk.Name, zone), err)
	}
	return nil
}

// syncType diffs one type record by record.
func (m *Manager) syncType(ctx context.Context, zone, name string, w RRSet, have []Record, z *zoneCache) error {
	wantSet := map[string]bool{}
	var add, del, retime []Record
	for _, v := range w.Values {
		r := Record{Name: name, Type: w.Type, TTL: w.TTL, Value: normalValue(w.Type, v)}
		wantSet[r.Value] = true
		i := slices.IndexFunc(have, func(h Record) bool { return h.Value == r.Value })
		switch {
		case i < 0:
			add = append(add, r)
		case have[i].TTL != w.TTL:
			retime = append(retime, have[i], r)
		}
	}
	for _, h := range have {
		if !wantSet[h.Value] {
			del = append(del, h)
		}
	}
	// A TTL change is a delete and an add of the same value: one value at
	// a time, so the other members of the set keep answering.
	for i := 0; i < len(retime); i += 2 {
		if err := m.remove(ctx, zone, retime[i:i+1], z); err != nil {
			return fmt.Errorf("changing TTL of %s: %w", retime[i], err)
		}
		if err := m.add(ctx, zone, retime[i+1:i+2], z); err != nil {
			return fmt.Errorf("changing TTL of %s: %w", retime[i+1], err)
		}
	}
	if err := m.add(ctx, zone, add, z); err != nil {
		return fmt.Errorf("adding %s records at %s: %w", w.Type, fqName(name, zone), err)
	}
	if err := m.remove(ctx, zone, del, z); err != nil {
		return fmt.Errorf("deleting %s records at %s: %w", w.Type, fqName(name, zone), err)
	}
	return nil
}

// Release deletes every record pmgtm owns at name, then its marker. Records
// of other types, and names that are not ours, are left alone.
func (m *Manager) Release(ctx context.Context, zone, name string) error {
	z := m.zone(zone)
	z.mu.Lock()
	defer z.mu.Unlock()
	return m.backoff.Retry(ctx, func() error {
		if err := m.load(ctx, zone, z); err != nil {
			return err
		}
		state := stateAt(z.records, name)
		if state.Owner != m.owner {
			return nil // not ours (or already released): nothing to do
		}
		var ours []Record
		for _, r := range state.Records {
			if slices.Contains(state.OwnedTypes, r.Type) {
				ours = append(ours, r)
			}
		}
		err := m.remove(ctx, zone, ours, z)
		if err == nil {
			var markers []Record
			for _, r := range z.records {
				if mk, ok := parseMarker(r.Value); ok && r.Name == MarkerName(name) && r.Type == "TXT" && mk.owner == m.owner {
					markers = append(markers, r)
				}
			}
			err = m.remove(ctx, zone, markers, z)
		}
		if err != nil {
			z.loaded = false
			return fmt.Errorf("releasing %s: %w", fqName(name, zone), err)
		}
		return nil
	})
}

func (m *Manager) add(ctx context.Context, zone string, recs []Record, z *zoneCache) error {
	if len(recs) == 0 {
		return nil
	}
	native, err := toNative(recs)
	if err != nil {
		return err
	}
	m.Calls.Append.Add(1)
	var created []libdns.Record
	err = withContext(ctx, func() error {
		var err error
		created, err = m.provider.AppendRecords(ctx, fqdn(zone), native)
		return err
	})
	if err != nil {
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
	if len(recs) == 0 {
		return nil
	}
	native, err := toNative(recs)
	if err != nil {
		return err
	}
	m.Calls.Delete.Add(1)
	if err := withContext(ctx, func() error {
		_, err := m.provider.DeleteRecords(ctx, fqdn(zone), native)
		return err
	}); err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, r := range recs {
		gone[r.key()] = true
	}
	z.records = slices.DeleteFunc(z.records, func(r Record) bool { return gone[r.key()] })
	return nil
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

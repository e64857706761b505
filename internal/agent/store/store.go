package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

const (
	zoneSuffix = ".json"
	tmpPrefix  = ".tmp-"
)

// Problem is a stored zone that could not be loaded.
type Problem = zone.LoadProblem

// Store is safe for concurrent use. Readers never block: they load the
// current table. Writers are serialised.
type Store struct {
	dir       string
	log       *slog.Logger
	now       func() time.Time
	unmatched *responder.Counters
	lock      *os.File

	mu       sync.Mutex                 // serialises changes to zones and the disk
	fences   map[string]responder.Fence // self-fencing state by zone name; not stored
	table    atomic.Pointer[responder.Table]
	problems atomic.Pointer[[]Problem]
	// writeFault is the last failed write (disk full, read-only, I/O
	// error) until a later write succeeds.
	writeFault atomic.Pointer[Problem]
}

// Open prepares dir (creating it when missing), takes an exclusive lock on
// it so that two agents cannot share it, and loads every stored zone.
func Open(dir string, log *slog.Logger, now func() time.Time) (*Store, error) {
	zdir := filepath.Join(dir, "zones")
	if err := os.MkdirAll(zdir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("data dir %s is in use by another agent (lock held): %w", dir, err)
	}
	s := &Store{dir: zdir, log: log, now: now, unmatched: new(responder.Counters), lock: lock, fences: map[string]responder.Fence{}}
	s.table.Store(responder.NewTable(nil, s.unmatched))
	s.problems.Store(&[]Problem{})
	if err := s.Reload(); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the data dir lock.
func (s *Store) Close() error { return s.lock.Close() }

// Table returns the zones in service.
func (s *Store) Table() *responder.Table { return s.table.Load() }

// Problems lists stored zones that failed to load at the last (re)load,
// and the last failed write while the disk keeps refusing writes.
func (s *Store) Problems() []Problem {
	out := *s.problems.Load()
	if f := s.writeFault.Load(); f != nil {
		out = append(slices.Clone(out), *f)
	}
	return out
}

// noteWrite records the outcome of a write to the disk.
func (s *Store) noteWrite(file string, err error) error {
	if err != nil {
		s.writeFault.Store(&Problem{File: file, Error: "write failed, nothing changed: " + err.Error()})
		return err
	}
	s.writeFault.Store(nil)
	return nil
}

// Get returns the zone with the canonical name.
func (s *Store) Get(name string) (zone.Zone, bool) {
	z := s.Table().Get(name)
	if z == nil {
		return zone.Zone{}, false
	}
	return z.Model, true
}

// Fenced returns the names of the zones that self-fence (a health check
// or drain), in no order. Cheap with many zones: the fencing runner asks
// four times a second, and copying every zone each time cost a 10,000-zone
// agent megabytes of garbage per second and its tail latency.
func (s *Store) Fenced() []string {
	var out []string
	s.Table().Each(func(z *responder.Zone) {
		if z.Model.Fenced() {
			out = append(out, z.Model.Name)
		}
	})
	return out
}

// List returns every zone, sorted by name.
func (s *Store) List() []zone.Zone {
	var out []zone.Zone
	s.Table().Each(func(z *responder.Zone) { out = append(out, z.Model) })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Put stores z (assigning its serial) and puts it in service. It returns
// the zone as stored and whether it is new. The change is on disk before
// it is served, and it is served before Put returns.
func (s *Store) Put(z zone.Zone) (zone.Zone, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Table()
	old := cur.Get(z.Name)
	var prev *zone.Zone
	if old != nil {
		prev = &old.Model
	}
	next := zone.Assign(z, prev, s.now())
	if prev != nil && next.Serial == prev.Serial && zone.SameContent(next, *prev) {
		return *prev, false, nil
	}
	if err := s.noteWrite(fileName(next.Name), writeFileDurably(s.dir, fileName(next.Name), zone.Encode(next))); err != nil {
		return zone.Zone{}, false, err
	}
	var counters *responder.Counters
	if old != nil {
		counters = old.Counters()
	}
	s.swap(cur, s.compile(next, counters), "")
	return next, old == nil, nil
}

// Delete removes the zone; it reports false when there was none.
func (s *Store) Delete(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Table()
	if cur.Get(name) == nil {
		return false, nil
	}
	if err := os.Remove(filepath.Join(s.dir, fileName(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, s.noteWrite(fileName(name), fmt.Errorf("removing zone file: %w", err))
	}
	if err := s.noteWrite(fileName(name), syncDir(s.dir)); err != nil {
		return false, err
	}
	s.swap(cur, nil, name)
	delete(s.fences, name)
	return true, nil
}

// compile renders z in its current fencing state. Callers hold mu.
func (s *Store) compile(z zone.Zone, counters *responder.Counters) *responder.Zone {
	return responder.Compile(z, counters, s.fences[z.Name])
}

// SetFence serves the zone in a new fencing state (it is not stored: on
// restart every zone starts served, and its checks decide again). It
// reports false when the zone is gone.
func (s *Store) SetFence(name string, f responder.Fence) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Table()
	old := cur.Get(name)
	if old == nil {
		return false
	}
	s.fences[name] = f
	s.swap(cur, s.compile(old.Model, old.Counters()), "")
	return true
}

// swap installs a table equal to cur with add put in (or the zone named
// remove taken out). Callers hold mu.
func (s *Store) swap(cur *responder.Table, add *responder.Zone, remove string) {
	zones := make([]*responder.Zone, 0, cur.Len()+1)
	cur.Each(func(z *responder.Zone) {
		if (add == nil || z.Model.Name != add.Model.Name) && z.Model.Name != remove {
			zones = append(zones, z)
		}
	})
	if add != nil {
		zones = append(zones, add)
	}
	s.table.Store(responder.NewTable(zones, s.unmatched))
}

// Reload reads every stored zone and serves exactly what is on disk. A file
// that cannot be read or parsed is reported and skipped; if its zone was in
// service, the version in service stays.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("reading zones: %w", err)
	}
	cur := s.Table()
	var zones []*responder.Zone
	problems := []Problem{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			// Left by a crash before rename: never acknowledged.
			_ = os.Remove(filepath.Join(s.dir, name))
			continue
		}
		if !strings.HasSuffix(name, zoneSuffix) || !e.Type().IsRegular() {
			continue
		}
		z, err := readZone(filepath.Join(s.dir, name))
		if err == nil && fileName(z.Name) != name {
			err = fmt.Errorf("file holds zone %s; its file name must be %s", z.Name, fileName(z.Name))
		}
		if err != nil {
			problems = append(problems, Problem{File: name, Error: err.Error()})
			s.log.Error("zone file skipped", "file", filepath.Join(s.dir, name), "error", err)
			if old := cur.Get(strings.TrimSuffix(name, zoneSuffix) + "."); old != nil {
				zones = append(zones, old)
			}
			continue
		}
		var counters *responder.Counters
		if old := cur.Get(z.Name); old != nil {
			counters = old.Counters()
		}
		zones = append(zones, s.compile(z, counters))
	}
	// A zone gone from disk takes its fencing state along: were it added
	// again later, it must not come back withdrawn by a state that no
	// fencing loop owns any more.
	kept := map[string]bool{}
	for _, z := range zones {
		kept[z.Model.Name] = true
	}
	for name := range s.fences {
		if !kept[name] {
			delete(s.fences, name)
		}
	}
	s.table.Store(responder.NewTable(zones, s.unmatched))
	s.problems.Store(&problems)
	s.log.Info("zones loaded", "zones", len(zones), "problems", len(problems))
	return nil
}

func readZone(path string) (zone.Zone, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return zone.Zone{}, err
	}
	return zone.Parse(data)
}

// fileName maps a canonical zone name to its file. Canonical names hold
// only letters, digits, '-', '_' and '.', so they are safe file names.
func fileName(name string) string { return strings.TrimSuffix(name, ".") + zoneSuffix }

// writeFileDurably replaces dir/name with data so that after a crash the
// file holds either the old or the new content, never a mix: write a temp
// file, fsync it, rename it over the target, fsync the directory.
func writeFileDurably(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("writing zone file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing zone file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing zone file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing zone file: %w", err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("renaming zone file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing data dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing data dir: %w", err)
	}
	return nil
}

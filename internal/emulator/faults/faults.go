package faults

import (
	"strings"
	"sync"
	"time"
)

// Fault fails matching requests. Skip lets that many matching requests
// through first (a failure in the middle of a batch); Count is how many
// fail after that.
type Fault struct {
	Method     string // "" matches any
	PathSuffix string // "" matches any path
	Skip       int
	Count      int
	Status     int           // HTTP status to answer with
	Code       string        // API error code (emulator-specific meaning)
	RetryAfter time.Duration // sent as Retry-After when set
}

// Injector holds active faults, latency and call counts.
type Injector struct {
	mu      sync.Mutex
	faults  []*Fault
	latency time.Duration
	calls   map[string]int
}

// SetLatency delays every request by d.
func (in *Injector) SetLatency(d time.Duration) {
	in.mu.Lock()
	in.latency = d
	in.mu.Unlock()
}

// Inject adds a fault.
func (in *Injector) Inject(f Fault) {
	in.mu.Lock()
	in.faults = append(in.faults, &f)
	in.mu.Unlock()
}

// Clear removes every fault and the latency.
func (in *Injector) Clear() {
	in.mu.Lock()
	in.faults, in.latency = nil, 0
	in.mu.Unlock()
}

// Calls returns how often each route ("METHOD route") was called.
func (in *Injector) Calls() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := map[string]int{}
	for k, v := range in.calls {
		out[k] = v
	}
	return out
}

// Count returns the calls of one route.
func (in *Injector) Count(route string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls[route]
}

// Enter counts the call, sleeps the latency and returns the fault to
// answer with, if any.
func (in *Injector) Enter(method, path, route string) *Fault {
	in.mu.Lock()
	if in.calls == nil {
		in.calls = map[string]int{}
	}
	in.calls[method+" "+route]++
	latency := in.latency
	var hit *Fault
	for i, f := range in.faults {
		if (f.Method != "" && f.Method != method) || !strings.HasSuffix(path, f.PathSuffix) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		copied := *f
		hit = &copied
		if f.Count--; f.Count <= 0 {
			in.faults = append(in.faults[:i], in.faults[i+1:]...)
		}
		break
	}
	in.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	return hit
}

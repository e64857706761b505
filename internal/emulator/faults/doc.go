// Package faults is the fault injection and call counting the API
// emulators share: latency, a queue of failures that match requests, and a
// per-route call count.
package faults

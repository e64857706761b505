// Package parentzone changes records in the zone that delegates a GTM
// hostname (the "parent zone") through one small interface built from the
// libdns interfaces, with what the libraries do not give us: ownership
// markers, conflict detection, record-by-record diffs of multi-member sets,
// retries with backoff, and a per-zone read cache.
package parentzone

// Package profiling lets a provider process started by terraform profile
// itself: with PMGTM_PROFILE_DIR set, each process writes a CPU profile and
// its peak resident memory there when it exits. make bench-provider reads
// them; a contributor can point `go tool pprof` at the same files.
package profiling

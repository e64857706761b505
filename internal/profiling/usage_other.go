//go:build !(linux || darwin || freebsd)

package profiling

// usage is not measured on this system.
func usage() Usage { return Usage{} }

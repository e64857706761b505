//go:build !unix

package store

import "os"

// lockFile is a no-op where flock(2) does not exist; the agent is supported
// on Linux and runs elsewhere for development only.
func lockFile(*os.File) error { return nil }

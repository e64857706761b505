//go:build linux || darwin || freebsd

package profiling

import (
	"runtime"
	"syscall"
)

// usage reads the process's own resource use (ru_maxrss is KiB on Linux
// and FreeBSD, bytes on macOS).
func usage() Usage {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return Usage{}
	}
	u := Usage{PeakRSS: ru.Maxrss * 1024, CPUSeconds: seconds(ru.Utime) + seconds(ru.Stime)}
	if runtime.GOOS == "darwin" {
		u.PeakRSS = ru.Maxrss
	}
	return u
}

func seconds(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

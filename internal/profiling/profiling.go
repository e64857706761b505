package profiling

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// Read sums the usage files in dir: CPU added up, the largest peak.
func Read(dir string) (total Usage) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.usage.json"))
	for _, f := range files {
		var u Usage
		if data, err := os.ReadFile(f); err == nil && json.Unmarshal(data, &u) == nil {
			total.CPUSeconds += u.CPUSeconds
			total.PeakRSS = max(total.PeakRSS, u.PeakRSS)
		}
	}
	return total
}

// EnvDir names the directory variable.
const EnvDir = "PMGTM_PROFILE_DIR"

// Usage is what a process wrote at its exit.
type Usage struct {
	PeakRSS    int64   `json:"peak_rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"` // user and system
}

// Start begins profiling when EnvDir is set; the returned stop writes
// provider-<pid>.cpu.pprof and provider-<pid>.usage.json (a Usage).
// Without the variable both are no-ops.
func Start() (stop func()) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return func() {}
	}
	// The directory is the operator's own choice, like a --cpuprofile flag.
	base := filepath.Join(filepath.Clean(dir), fmt.Sprintf("provider-%d", os.Getpid()))
	f, err := os.Create(base + ".cpu.pprof") //nolint:gosec // G703: see above
	if err != nil {
		log.Printf("[WARN] %s: %v", EnvDir, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("[WARN] %s: %v", EnvDir, err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		data, _ := json.Marshal(usage())
		_ = os.WriteFile(base+".usage.json", data, 0o600) //nolint:gosec // G703: the operator's directory
	}
}

package zone

import "time"

// The agent's admin API bodies, defined once for the agent that writes
// them and the provider, tests and demo that read them.

// ZoneSummary is one entry of GET /v1/zones.
type ZoneSummary struct {
	Zone   string `json:"zone"`
	Serial uint32 `json:"serial"`
}

// ZoneList is the body of GET /v1/zones.
type ZoneList struct {
	Zones []ZoneSummary `json:"zones"`
}

// HealthReport is the body of GET /v1/health.
type HealthReport struct {
	Status   string        `json:"status"` // HealthReportOK or HealthReportDegraded
	Version  string        `json:"version"`
	Zones    int           `json:"zones"`
	Uptime   float64       `json:"uptime_seconds"`
	Problems []LoadProblem `json:"problems"`
	// Fencing lists zones with a health check or a drain, and whether each
	// is withdrawn and why.
	Fencing []FenceStatus `json:"fencing"`
}

// HealthReport.Status values.
const (
	HealthReportOK       = "ok"
	HealthReportDegraded = "degraded"
)

// LoadProblem is a zone file the agent could not load or write.
type LoadProblem struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// FenceStatus is one fenced zone's state, for /v1/health, metrics and logs.
type FenceStatus struct {
	Zone      string    `json:"zone"`
	Local     string    `json:"local"` // HealthOK, HealthFailing or LocalUnchecked
	Drained   bool      `json:"drained"`
	Withdrawn bool      `json:"withdrawn"`
	Mode      string    `json:"mode"` // the withdraw mode
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"` // of the current withdrawn/serving state
	LastCheck string    `json:"last_check,omitempty"`
}

// LocalUnchecked is FenceStatus.Local for a zone without a health check.
const LocalUnchecked = "unchecked"

package api

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestMonitoringUsesRealMetrics: every pmgtm_ metric the Grafana dashboard
// and the Prometheus rules in monitoring/ refer to is one the agent
// exports, so neither goes blank after a rename.
func TestMonitoringUsesRealMetrics(t *testing.T) {
	srv, _ := newTestServer(t, testToken)
	_, metrics := do(t, srv, "GET", "/metrics", testToken, nil)
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (pmgtm_\w+)`).FindAllStringSubmatch(string(metrics), -1) {
		exported[m[1]] = true
	}
	dash, err := os.ReadFile("../../../monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(dash) {
		t.Fatal("the dashboard is not valid JSON")
	}
	rules, err := os.ReadFile("../../../monitoring/prometheus-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, m := range regexp.MustCompile(`pmgtm_[a-z_]+[a-z]`).FindAllString(string(dash)+string(rules), -1) {
		used++
		if !exported[m] {
			t.Errorf("monitoring/ uses %s, which the agent does not export", m)
		}
	}
	if used < 7 {
		t.Errorf("only %d metric references found: the check is not reading the files", used)
	}
}

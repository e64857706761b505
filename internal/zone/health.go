package zone

import (
	"strconv"
	"strings"
)

// HealthLabel is the name, beneath each zone, where a node tells its peers
// and the provider whether its own load balancer passes its check: a TXT
// record whose first string is a health state and whose second is
// "serial=<zone serial>". Resolvers never ask for it; peers and the
// provider do, directly. The agent answers it, the agent's peers and the
// provider read it: this is the one definition all three use.
const HealthLabel = "_pmgtm-health"

// Health states a node reports at HealthLabel.
const (
	HealthOK      = "ok"
	HealthFailing = "failing"
	HealthDrained = "drained"
)

// HealthName is the health record's name for a zone (fully qualified).
func HealthName(fqdn string) string {
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	return HealthLabel + "." + fqdn
}

// HealthTXT is the health record's strings.
func HealthTXT(state string, serial uint32) []string {
	return []string{state, "serial=" + strconv.FormatUint(uint64(serial), 10)}
}

// ParseHealthTXT reads the health record's strings; ok is false when they
// are not a health record.
func ParseHealthTXT(txt []string) (state string, serial uint32, ok bool) {
	if len(txt) < 2 {
		return "", 0, false
	}
	s, found := strings.CutPrefix(txt[1], "serial=")
	n, err := strconv.ParseUint(s, 10, 32)
	if !found || err != nil {
		return "", 0, false
	}
	switch txt[0] {
	case HealthOK, HealthFailing, HealthDrained:
		return txt[0], uint32(n), true
	}
	return "", 0, false
}

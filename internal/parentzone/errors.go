package parentzone

import (
	"fmt"
	"strings"
)

// ConflictError reports records that stand where pmgtm wants to write and
// that pmgtm does not own. Nothing was changed.
type ConflictError struct {
	Zone    string
	Name    string   // relative name pmgtm wanted
	Records []Record // the foreign records in the way
	Reason  string
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in zone %s is not pmgtm's: %s; found:", fqName(e.Name, e.Zone), e.Zone, e.Reason)
	for _, r := range e.Records {
		fmt.Fprintf(&b, "\n  %s %d %s %s", fqName(r.Name, e.Zone), r.TTL, r.Type, r.Value)
	}
	b.WriteString("\nRemove or rename these records, import the name into Terraform, or set adopt_existing = true " +
		"to let pmgtm take over records of the types it manages (it never touches other types).")
	return b.String()
}

func fqName(rel, zone string) string {
	zone = strings.TrimSuffix(zone, ".") + "."
	if rel == "@" {
		return zone
	}
	return rel + "." + zone
}

package parentzone

import (
	"errors"
	"fmt"
	"strings"
)

// ConflictError reports records that stand where pmgtm wants to write and
// that pmgtm does not own. Nothing was changed.
type ConflictError struct {
	Zone     string
	Name     string   // relative name pmgtm wanted
	Records  []Record // the foreign records in the way
	Reason   string
	Adopting bool // adopt_existing was already set
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in zone %s is not pmgtm's: %s; found:", fqName(e.Name, e.Zone), e.Zone, e.Reason)
	for _, r := range e.Records {
		fmt.Fprintf(&b, "\n  %s %d %s %s", fqName(r.Name, e.Zone), r.TTL, r.Type, r.Value)
	}
	b.WriteString("\nRemove or rename these records")
	if e.adoptable() && !e.Adopting {
		b.WriteString(", or set adopt_existing = true to let pmgtm take over the records of the types it manages " +
			"(it never touches other types)")
	}
	b.WriteString(".")
	return b.String()
}

// adoptable reports whether adopt_existing would clear the conflict: only
// records of the types pmgtm writes at the name itself can be adopted.
func (e *ConflictError) adoptable() bool {
	for _, r := range e.Records {
		if r.Name != e.Name || r.Type == "CNAME" || !strings.Contains(e.Reason, "types pmgtm manages") {
			return false
		}
	}
	return true
}

// HeldError says that an ownership marker names someone other than the
// acting resource: another configuration (owner id), another workspace or
// state of this one, or another resource with the same name.
type HeldError struct {
	Zone, Name string
	Holder     Holder // who the marker names; zero when the name is unmarked
	Marker     string // the marker's value
	Me         Holder
	Creating   bool
}

func (e *HeldError) Error() string {
	var b strings.Builder
	if e.Marker == "" {
		fmt.Fprintf(&b, "%s carries no pmgtm ownership marker, so pmgtm will not change it.", fqName(e.Name, e.Zone))
		return b.String()
	}
	fmt.Fprintf(&b, "%s is held by another pmgtm resource: its marker %s TXT %q names %s; this resource is %s.",
		fqName(e.Name, e.Zone), fqName(MarkerName(e.Name), e.Zone), e.Marker, e.Holder, e.Me)
	switch {
	case e.Holder.Owner != e.Me.Owner:
		fmt.Fprintf(&b, " It belongs to the configuration whose provider has owner_id = %q.", e.Holder.Owner)
	case e.Creating:
		b.WriteString(" Another Terraform state (another workspace, a copied directory, another team's stack) or " +
			"another resource with the same name in this configuration holds it.")
	default:
		b.WriteString(" It was taken over by another state (terraform import), or its marker was rewritten.")
	}
	b.WriteString("\nWays out: give this resource another name; or move the name here explicitly with terraform " +
		"import (e.g. terraform import <address> " + strings.TrimSuffix(e.Zone, ".") + "/" + e.Name + ") and then " +
		"terraform state rm it from the state that holds it now. Nothing was changed.")
	return b.String()
}

// LastNameserverError refuses to take the last nameserver out of an NS set:
// the hostname would lose its delegation.
type LastNameserverError struct {
	Zone, Name, Nameserver string
}

func (e *LastNameserverError) Error() string {
	return fmt.Sprintf("%s is the only nameserver of %s", e.Nameserver, fqName(e.Name, e.Zone))
}

func fqName(rel, zone string) string {
	zone = strings.TrimSuffix(zone, ".") + "."
	if rel == "@" {
		return zone
	}
	return rel + "." + zone
}

// Refused reports whether err is pmgtm refusing, or the host refusing, an
// operation before it wrote anything: a conflict, a name held by someone
// else, the last nameserver of a set, or credentials that cannot work.
// Such a failed create leaves nothing behind to clean up.
func Refused(err error) bool {
	var conflict *ConflictError
	var held *HeldError
	var last *LastNameserverError
	var auth *AuthError
	return errors.As(err, &conflict) || errors.As(err, &held) || errors.As(err, &last) || errors.As(err, &auth)
}

package zone

// ACMELabel is the label ACME's DNS-01 challenge asks for beneath a name
// (RFC 8555 §8.4); a wildcard certificate for *.<zone> asks the same name.
const ACMELabel = "_acme-challenge"

// ACMETarget checks the CNAME target of a zone's challenge name: a valid
// name outside the zone (inside, the nodes would answer it themselves and
// no ACME client could write it). "" means none.
func ACMETarget(zoneName, target string) (string, *FieldError) {
	if target == "" {
		return "", nil
	}
	t, err := CanonicalName(target)
	if err != nil {
		return "", fieldErr("acme_challenge", "%v", err)
	}
	if IsSubdomain(t, zoneName) {
		return "", fieldErr("acme_challenge", "%s lies inside %s, which the nodes answer themselves; point it at a name outside the "+
			"hostname that your ACME client can write, e.g. in the parent zone", t, zoneName)
	}
	return t, nil
}

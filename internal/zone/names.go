package zone

import (
	"fmt"
	"strings"
)

// Limits from RFC 1035 §2.3.4, counted on the presentation form without the
// trailing dot (253 characters make the 255-octet wire form).
const (
	MaxLabelLength = 63
	MaxNameLength  = 253
)

// CanonicalName returns name in lower case with exactly one trailing dot, or
// an error that says what is wrong with it. Labels are LDH (letters, digits,
// hyphen, not at either end) with "_" tolerated for service-style labels; a
// bare "." (the root) is rejected, since nothing of ours lives there.
func CanonicalName(name string) (string, error) {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return "", fmt.Errorf("name is empty; give a fully qualified domain name such as api.example.com")
	}
	if strings.HasSuffix(n, ".") {
		return "", fmt.Errorf("%q ends with an empty label (two dots); remove the extra dot", name)
	}
	if len(n) > MaxNameLength {
		return "", fmt.Errorf("%q is %d characters long; a domain name may have at most %d", name, len(n), MaxNameLength)
	}
	for _, label := range strings.Split(n, ".") {
		if err := checkLabel(label); err != nil {
			return "", fmt.Errorf("%q: %w", name, err)
		}
	}
	return strings.ToLower(n) + ".", nil
}

func checkLabel(label string) error {
	switch {
	case label == "":
		return fmt.Errorf("has an empty label (two dots in a row)")
	case len(label) > MaxLabelLength:
		return fmt.Errorf("label %q is %d characters long; a label may have at most %d", label, len(label), MaxLabelLength)
	case label[0] == '-' || label[len(label)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", label)
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			continue
		}
		return fmt.Errorf("label %q contains %q; use letters, digits and hyphens (IDNs in their xn-- form)", label, string(rune(c)))
	}
	return nil
}

// IsSubdomain reports whether child equals parent or lies beneath it. Both
// must be canonical.
func IsSubdomain(child, parent string) bool {
	if child == parent || parent == "." {
		return true
	}
	return strings.HasSuffix(child, "."+parent)
}

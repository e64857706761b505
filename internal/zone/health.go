package zone

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
)

// HealthLabel is the name, beneath each zone, where a node tells its peers
// and the provider whether its own load balancer passes its check: a TXT
// record whose first string is a health state and whose second is
// "serial=<zone serial>". Resolvers never ask for it; peers and the
// provider do, directly. The agent answers it, the agent's peers and the
// provider read it: this is the one definition all three use.
//
// Asked as <nonce>.HealthLabel.<zone>, a node whose zone holds a peer key
// adds a third string, "mac=<hex>": HealthMAC over the nonce, the zone, the
// answering node's name, the state and the serial. A peer believes an "ok"
// only with a valid MAC for the nonce it just chose, so a spoofed answer
// (no key) and a replayed one (an old nonce) are both ignored.
const HealthLabel = "_pmgtm-health"

// Health states a node reports at HealthLabel.
const (
	HealthOK      = "ok"
	HealthFailing = "failing"
	HealthDrained = "drained"
)

// PeerKeyBytes is the length of a peer key; HealthNonceLen that of a nonce
// label (hex of 16 random bytes).
const (
	PeerKeyBytes   = 32
	HealthNonceLen = 32
)

// HealthName is the health record's name for a zone (fully qualified).
func HealthName(fqdn string) string {
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	return HealthLabel + "." + fqdn
}

// HealthChallengeName is the name a peer asks with a fresh nonce.
func HealthChallengeName(fqdn, nonce string) string { return nonce + "." + HealthName(fqdn) }

// NewHealthNonce returns a random nonce label.
func NewHealthNonce() string {
	var b [HealthNonceLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidHealthNonce reports whether label is a nonce as NewHealthNonce makes
// them (lower-case hex of the right length); others get no MAC.
func ValidHealthNonce(label []byte) bool {
	if len(label) != HealthNonceLen {
		return false
	}
	for _, c := range label {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewPeerKey returns a fresh peer key in the zone's form.
func NewPeerKey() string {
	b := make([]byte, PeerKeyBytes)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// DecodePeerKey returns the key's bytes; nil for no (or a malformed) key.
func DecodePeerKey(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != PeerKeyBytes {
		return nil
	}
	return b
}

func peerKey(s string) (string, *FieldError) {
	if s != "" && DecodePeerKey(s) == nil {
		return "", fieldErr("peer_key", "must be base64 of %d bytes (the provider makes one per hostname)", PeerKeyBytes)
	}
	return s, nil
}

// HealthMAC authenticates one health answer: which node (its canonical
// name) reports which state and serial for which zone, to which nonce.
func HealthMAC(key []byte, nonce, zoneName, node, state string, serial uint32) string {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{"pmgtm-health-v1", nonce, zoneName, node, state} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	m.Write(binary.BigEndian.AppendUint32(nil, serial))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// HealthRecord is what a health TXT record says.
type HealthRecord struct {
	State  string
	Serial uint32
	MAC    string // "" when the record carries none
}

// HealthTXT is the health record's strings; mac "" leaves the MAC out.
func HealthTXT(state string, serial uint32, mac string) []string {
	txt := []string{state, "serial=" + strconv.FormatUint(uint64(serial), 10)}
	if mac != "" {
		txt = append(txt, "mac="+mac)
	}
	return txt
}

// ParseHealthTXT reads the health record's strings; ok is false when they
// are not a health record.
func ParseHealthTXT(txt []string) (rec HealthRecord, ok bool) {
	if len(txt) < 2 {
		return rec, false
	}
	s, found := strings.CutPrefix(txt[1], "serial=")
	n, err := strconv.ParseUint(s, 10, 32)
	if !found || err != nil {
		return rec, false
	}
	switch txt[0] {
	case HealthOK, HealthFailing, HealthDrained:
	default:
		return rec, false
	}
	rec = HealthRecord{State: txt[0], Serial: uint32(n)}
	if len(txt) > 2 {
		rec.MAC, _ = strings.CutPrefix(txt[2], "mac=")
	}
	return rec, true
}

// Verify reports whether the record is node's authenticated answer to
// nonce for zoneName under key.
func (r HealthRecord) Verify(key []byte, nonce, zoneName, node string) bool {
	if key == nil || r.MAC == "" {
		return false
	}
	want := HealthMAC(key, nonce, zoneName, node, r.State, r.Serial)
	return hmac.Equal([]byte(want), []byte(r.MAC))
}

package parentzone

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// RFC2136Config configures dynamic updates with TSIG against any RFC 2136
// server (BIND, Knot, PowerDNS). Reads use a zone transfer (AXFR) signed
// with the same key, so the server must allow both for it, unless a
// transfer key of its own signs the reads.
type RFC2136Config struct {
	Server       string // host[:port]; port 53 when omitted
	KeyName      string
	KeyAlgorithm string // hmac-sha256 (default) or hmac-sha512
	KeySecret    string // base64
	// The transfer key, when set (name and secret, both or neither),
	// signs every read: the SOA query, the zone transfer and the read-back
	// after a write. The update key then needs no transfer right.
	TransferKeyName      string
	TransferKeyAlgorithm string
	TransferKeySecret    string
}

// ConfigError is a backend setting that cannot work, named by its
// attribute in the provider block.
type ConfigError struct {
	Attribute, Message string
}

func (e *ConfigError) Error() string { return e.Message }

// NewRFC2136 returns an RFC 2136 backend. Every answer it accepts is
// signed with the key (an unsigned or badly signed answer is an error,
// whatever its rcode), and every write is read back, signed, before it
// counts as done.
func NewRFC2136(cfg RFC2136Config) (Backend, error) {
	if cfg.Server == "" {
		return nil, &ConfigError{"server", "rfc2136: server is required (or PMGTM_RFC2136_SERVER)"}
	}
	update, err := newTSIGKey("", cfg.KeyName, cfg.KeyAlgorithm, cfg.KeySecret)
	if err != nil {
		return nil, err
	}
	transfer := update
	if cfg.TransferKeyName != "" || cfg.TransferKeySecret != "" || cfg.TransferKeyAlgorithm != "" {
		if transfer, err = newTSIGKey("transfer_", cfg.TransferKeyName, cfg.TransferKeyAlgorithm, cfg.TransferKeySecret); err != nil {
			return nil, err
		}
	}
	server, err := withDefaultPort(cfg.Server)
	if err != nil {
		return nil, &ConfigError{"server", fmt.Sprintf("rfc2136: server %q: %v; use host or host:port, e.g. \"ns1.example.com:53\"", cfg.Server, err)}
	}
	return &rfc2136Backend{server: server, update: update, transfer: transfer}, nil
}

// tsigKey is a TSIG key and the prefix of its attributes in the provider
// block ("" for the update key, "transfer_" for the transfer key), so that
// an error names the setting to fix.
type tsigKey struct {
	name, alg, secret, prefix string
}

// attr is the provider-block attribute of the key's setting ("key_secret").
func (k tsigKey) attr(setting string) string { return k.prefix + setting }

func newTSIGKey(prefix, name, algorithm, secret string) (tsigKey, error) {
	k := tsigKey{prefix: prefix}
	switch strings.TrimSuffix(strings.ToLower(algorithm), ".") {
	case "", "hmac-sha256":
		k.alg = dns.HmacSHA256
	case "hmac-sha512":
		k.alg = dns.HmacSHA512
	default:
		return k, &ConfigError{k.attr("key_algorithm"), fmt.Sprintf("rfc2136: %s %q is not supported; use hmac-sha256 or hmac-sha512", k.attr("key_algorithm"), algorithm)}
	}
	env := "PMGTM_RFC2136_" + strings.ToUpper(prefix)
	for _, req := range []struct{ setting, value string }{{"key_name", name}, {"key_secret", secret}} {
		if req.value == "" {
			return k, &ConfigError{k.attr(req.setting), fmt.Sprintf("rfc2136: %s is required (or %s%s)", k.attr(req.setting), env, strings.ToUpper(req.setting))}
		}
	}
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil {
		return k, &ConfigError{k.attr("key_secret"), fmt.Sprintf("rfc2136: %s is not base64 (the secret of a tsig-keygen key clause, e.g. \"kq3N...=\"): %v", k.attr("key_secret"), err)}
	}
	if _, err := dns.NewRR(dns.Fqdn(name) + " A 192.0.2.1"); err != nil {
		return k, &ConfigError{k.attr("key_name"), fmt.Sprintf("rfc2136: %s %q is not a domain name", k.attr("key_name"), name)}
	}
	k.name, k.secret = dns.Fqdn(strings.ToLower(name)), secret
	return k, nil
}

func withDefaultPort(server string) (string, error) {
	if _, _, err := net.SplitHostPort(server); err == nil {
		return server, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(server, "["), "]")
	if host == "" || strings.ContainsAny(host, "/ ") {
		return "", errors.New("no host")
	}
	return net.JoinHostPort(host, "53"), nil
}

// rfc2136Backend speaks RFC 2136 UPDATE and AXFR with TSIG (RFC 8945):
// UPDATEs signed with the update key, reads with the transfer key (the
// same key unless configured apart).
type rfc2136Backend struct {
	server           string
	update, transfer tsigKey
}

var _ Backend = (*rfc2136Backend)(nil)

// AuthError is an answer that proves the server will not do what pmgtm
// asks with these settings: a rejected key, a zone it does not serve, an
// update policy that forbids the change, or an answer not signed by the
// server (something else answers at that address). It is never retried,
// and plan reports it as an error.
type AuthError struct {
	Attribute string // the setting to look at: key_secret, key_name, server, ...
	Message   string
}

func (e *AuthError) Error() string { return e.Message }

// dial connects over TCP, with the context's deadline or else limit for
// the whole exchange.
func (b *rfc2136Backend) dial(ctx context.Context, limit time.Duration) (net.Conn, error) {
	nc, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", b.server)
	if err != nil {
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(limit)
	}
	_ = nc.SetDeadline(deadline)
	return nc, nil
}

// exchange sends a message signed with k over TCP and returns the answer
// only when it is signed with k and its signature verifies.
func (b *rfc2136Backend) exchange(ctx context.Context, k tsigKey, m *dns.Msg) (*dns.Msg, error) {
	m.SetTsig(k.name, k.alg, 300, time.Now().Unix())
	nc, err := b.dial(ctx, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	co := &dns.Conn{Conn: nc}
	out, mac, err := dns.TsigGenerate(m, k.secret, "", false)
	if err != nil {
		return nil, err
	}
	if _, err := co.Write(out); err != nil {
		return nil, err
	}
	raw := make([]byte, dns.MaxMsgSize)
	n, err := co.Read(raw)
	if err != nil {
		return nil, err
	}
	raw = raw[:n]
	resp := new(dns.Msg)
	if err := resp.Unpack(raw); err != nil {
		return nil, fmt.Errorf("unreadable answer from %s: %w", b.server, err)
	}
	if err := b.verify(k, resp, raw, mac, m); err != nil {
		return nil, err
	}
	return resp, nil
}

// verify checks an answer's TSIG: present, for our key, without a TSIG
// error, and a valid MAC over the message and our request's MAC.
func (b *rfc2136Backend) verify(k tsigKey, resp *dns.Msg, raw []byte, requestMAC string, req *dns.Msg) error {
	t := resp.IsTsig()
	op := dns.OpcodeToString[req.Opcode]
	if t == nil {
		return &AuthError{"server", fmt.Sprintf("the answer from %s to a signed %s is not signed (rcode %s), so pmgtm cannot trust it: something between pmgtm and the server, or the server itself, answers without the key %s",
			b.server, op, dns.RcodeToString[resp.Rcode], k.name)}
	}
	switch t.Error {
	case dns.RcodeBadSig:
		return &AuthError{k.attr("key_secret"), fmt.Sprintf("%s rejected the TSIG signature (BADSIG): %s is not the secret of key %s on the server", b.server, k.attr("key_secret"), k.name)}
	case dns.RcodeBadKey:
		return &AuthError{k.attr("key_name"), fmt.Sprintf("%s does not know the TSIG key %s (BADKEY): check %s (and %s) against the server's key", b.server, k.name, k.attr("key_name"), k.attr("key_algorithm"))}
	case dns.RcodeBadTime:
		return &AuthError{"server", fmt.Sprintf("%s rejected the TSIG time (BADTIME): the clocks of this machine and the server differ by more than 5 minutes", b.server)}
	case dns.RcodeSuccess:
	default:
		return fmt.Errorf("%s answered with TSIG error %s", b.server, dns.RcodeToString[int(t.Error)])
	}
	if !strings.EqualFold(t.Hdr.Name, k.name) {
		return &AuthError{"server", fmt.Sprintf("the answer from %s is signed with key %s, not %s", b.server, t.Hdr.Name, k.name)}
	}
	if err := dns.TsigVerify(raw, k.secret, requestMAC, false); err != nil {
		return &AuthError{"server", fmt.Sprintf("the answer from %s to a signed %s has a bad TSIG signature (%v), so pmgtm does not trust it", b.server, op, err)}
	}
	return nil
}

// Where each server software grants a key the right to update a zone, to
// transfer it, or both.
const (
	updateGrant   = "BIND: allow-update; Knot: an ACL with update; PowerDNS: TSIG-ALLOW-DNSUPDATE"
	transferGrant = "BIND: allow-transfer; Knot: an ACL with transfer; PowerDNS: TSIG-ALLOW-AXFR"
	bothGrants    = "BIND: allow-update and allow-transfer; Knot: an ACL with update and transfer; PowerDNS: TSIG-ALLOW-DNSUPDATE and TSIG-ALLOW-AXFR"
)

// rights is what the server must let key k do, and where that is granted:
// updates and transfers when it is the only key, else what its role needs.
func (b *rfc2136Backend) rights(k tsigKey) (what, grant string) {
	switch {
	case b.update == b.transfer:
		return "updates and transfers", bothGrants
	case k == b.update:
		return "updates", updateGrant
	}
	return "transfers", transferGrant
}

// rcodeError explains a refused operation on zone.
func (b *rfc2136Backend) rcodeError(k tsigKey, resp *dns.Msg, op, zone string) error {
	switch resp.Rcode {
	case dns.RcodeSuccess:
		return nil
	case dns.RcodeNotAuth:
		return &AuthError{"server", fmt.Sprintf("%s is not authoritative for zone %s (NOTAUTH): check the zone name and that server is its primary", b.server, zone)}
	case dns.RcodeNotZone:
		return &AuthError{"server", fmt.Sprintf("%s: a name is outside zone %s (NOTZONE)", b.server, zone)}
	case dns.RcodeRefused:
		what, grant := b.rights(k)
		return &AuthError{k.attr("key_name"), fmt.Sprintf("%s refused the %s on zone %s (REFUSED): its policy does not let key %s do it; allow it %s of the zone (%s)", b.server, op, zone, k.name, what, grant)}
	}
	msg := fmt.Sprintf("%s answered the %s on zone %s with %s", b.server, op, zone, dns.RcodeToString[resp.Rcode])
	if opt := resp.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if ede, ok := o.(*dns.EDNS0_EDE); ok {
				msg += fmt.Sprintf(" (%s: %s)", dns.ExtendedErrorCodeToString[ede.InfoCode], ede.ExtraText)
			}
		}
	}
	return errors.New(msg)
}

// GetRecords transfers the zone. A signed SOA query comes first: its
// answer tells a rejected key, or a server that does not serve the zone,
// apart from everything else. The first and last messages of the transfer
// must be signed (RFC 8945 5.3.1 lets the ones between go unsigned); every
// signed one is verified in sequence.
func (b *rfc2136Backend) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone = dns.Fqdn(zone)
	soa, err := b.exchange(ctx, b.transfer, new(dns.Msg).SetQuestion(zone, dns.TypeSOA))
	if err != nil {
		return nil, err
	}
	if soa.Rcode != dns.RcodeSuccess || !soa.Authoritative || len(soa.Answer) == 0 {
		return nil, &AuthError{"server", fmt.Sprintf("%s does not serve zone %s (its SOA query got %s, authoritative=%v): check the zone name and that server is the zone's primary",
			b.server, zone, dns.RcodeToString[soa.Rcode], soa.Authoritative)}
	}
	nc, err := b.dial(ctx, 60*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer nc.Close()
	// miekg's Transfer verifies every message of the transfer in sequence
	// (RFC 8945 5.3.1) and refuses an unsigned one (ErrNoSig).
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: nc}, TsigSecret: map[string]string{b.transfer.name: b.transfer.secret}}
	q := new(dns.Msg).SetAxfr(zone)
	q.SetTsig(b.transfer.name, b.transfer.alg, 300, time.Now().Unix())
	envelopes, err := tr.In(q, b.server)
	if err != nil {
		return nil, fmt.Errorf("zone transfer of %s: %w", zone, err)
	}
	var out []libdns.Record
	for e := range envelopes {
		if e.Error != nil {
			switch {
			case errors.Is(e.Error, dns.ErrNoSig):
				return nil, &AuthError{"server", fmt.Sprintf("the zone transfer of %s from %s is not signed, so pmgtm cannot trust it", zone, b.server)}
			case strings.Contains(e.Error.Error(), "bad xfr rcode: 5"):
				return nil, &AuthError{b.transfer.attr("key_name"), fmt.Sprintf("%s refused the zone transfer of %s (REFUSED): allow key %s to transfer the zone (%s)", b.server, zone, b.transfer.name, transferGrant)}
			}
			return nil, fmt.Errorf("zone transfer of %s from %s: %w", zone, b.server, classifyTsig(e.Error, b.transfer))
		}
		for _, rr := range e.RR {
			out = append(out, fromRR(rr, zone))
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("zone transfer of %s from %s ended early", zone, b.server)
	}
	// The closing SOA repeats the opening one.
	return out[:len(out)-1], nil
}

// classifyTsig turns miekg's TSIG verification errors into what to fix.
func classifyTsig(err error, k tsigKey) error {
	if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrAuth) {
		return fmt.Errorf("the answer's TSIG signature does not verify with key %s (%w): %s may be wrong, or something between pmgtm and the server changes the answers", k.name, err, k.attr("key_secret"))
	}
	return err
}

// fromRR converts a transferred record to libdns form.
func fromRR(rr dns.RR, zone string) libdns.Record {
	hdr := rr.Header()
	r := libdns.RR{Name: libdns.RelativeName(hdr.Name, zone), TTL: time.Duration(hdr.Ttl) * time.Second}
	hdrText := hdr.String()
	r.Type = dns.TypeToString[hdr.Rrtype]
	if _, ok := rr.(*dns.RFC3597); ok {
		r.Type = fmt.Sprintf("TYPE%d", hdr.Rrtype)
		hdrText = fmt.Sprintf("%s\t%d\tCLASS%d\t%s\t", strings.SplitN(hdrText, "\t", 2)[0], hdr.Ttl, hdr.Class, r.Type)
	}
	if txt, ok := rr.(*dns.TXT); ok {
		r.Data = strings.Join(txt.Txt, "")
	} else {
		r.Data = strings.TrimPrefix(rr.String(), hdrText)
	}
	if parsed, err := r.Parse(); err == nil {
		return parsed
	}
	return r
}

// toRR renders a libdns record in zone.
func toRR(rec libdns.Record, zone string) (dns.RR, error) {
	r := rec.RR()
	data := r.Data
	if r.Type == "TXT" {
		var chunks []string
		for runes := []rune(data); len(runes) > 0; {
			n := min(255, len(runes))
			chunks = append(chunks, fmt.Sprintf("%q", string(runes[:n])))
			runes = runes[n:]
		}
		data = strings.Join(chunks, " ")
		if data == "" {
			data = `""`
		}
	}
	return dns.NewRR(fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", zone, r.Name, int(r.TTL.Seconds()), r.Type, data))
}

// ProbeWrite asks whether the key may update the zone, changing nothing:
// an UPDATE whose only content is the prerequisite that the zone's SOA
// exists (RFC 2136 2.4.1). The server checks its update policy for the
// message, so a key without update rights is refused at plan time.
func (b *rfc2136Backend) ProbeWrite(ctx context.Context, zone string) error {
	zone = dns.Fqdn(zone)
	m := new(dns.Msg).SetUpdate(zone)
	m.RRsetUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassANY}}})
	resp, err := b.exchange(ctx, b.update, m)
	if err != nil {
		return err
	}
	return b.rcodeError(b.update, resp, "update", zone)
}

func (b *rfc2136Backend) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return b.ChangeRecords(ctx, zone, nil, recs)
}

func (b *rfc2136Backend) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	_, err := b.ChangeRecords(ctx, zone, recs, nil)
	return recs, err
}

// ChangeRecords removes del and adds add in one UPDATE message, which the
// server applies atomically and in order, then reads them back: a write
// that the server acknowledged but did not make fails here, naming the
// record.
func (b *rfc2136Backend) ChangeRecords(ctx context.Context, zone string, del, add []libdns.Record) ([]libdns.Record, error) {
	zone = dns.Fqdn(zone)
	m := new(dns.Msg).SetUpdate(zone)
	delRRs, err := toRRs(del, zone)
	if err != nil {
		return nil, err
	}
	addRRs, err := toRRs(add, zone)
	if err != nil {
		return nil, err
	}
	if len(delRRs) > 0 {
		m.Remove(delRRs)
	}
	if len(addRRs) > 0 {
		m.Insert(addRRs)
	}
	resp, err := b.exchange(ctx, b.update, m)
	if err != nil {
		return nil, err
	}
	if err := b.rcodeError(b.update, resp, "update", zone); err != nil {
		return nil, err
	}
	// A record deleted and added again (a TTL change) must be present.
	readded := map[string]bool{}
	for _, rr := range addRRs {
		readded[rdata(rr)+" "+strings.ToLower(rr.Header().Name)] = true
	}
	gone := slices.DeleteFunc(slices.Clone(delRRs), func(rr dns.RR) bool { return readded[rdata(rr)+" "+strings.ToLower(rr.Header().Name)] })
	if err := b.readBack(ctx, addRRs, true); err != nil {
		return nil, err
	}
	return add, b.readBack(ctx, gone, false)
}

func toRRs(recs []libdns.Record, zone string) ([]dns.RR, error) {
	rrs := make([]dns.RR, 0, len(recs))
	for _, rec := range recs {
		rr, err := toRR(rec, zone)
		if err != nil {
			return nil, fmt.Errorf("invalid record %+v: %w", rec.RR(), err)
		}
		rrs = append(rrs, rr)
	}
	return rrs, nil
}

// readBack asks the server, signed, for each changed name and type and
// checks that every record is there (add) or gone (remove).
func (b *rfc2136Backend) readBack(ctx context.Context, rrs []dns.RR, add bool) error {
	type key struct {
		name  string
		rtype uint16
	}
	var keys []key
	for _, rr := range rrs {
		k := key{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		q := new(dns.Msg).SetQuestion(k.name, k.rtype)
		q.RecursionDesired = false
		resp, err := b.exchange(ctx, b.transfer, q)
		if err != nil {
			return fmt.Errorf("reading back %s %s: %w", k.name, dns.TypeToString[k.rtype], err)
		}
		var have []string
		for _, rr := range append(resp.Answer, resp.Ns...) {
			if strings.EqualFold(rr.Header().Name, k.name) && rr.Header().Rrtype == k.rtype {
				have = append(have, rdata(rr))
			}
		}
		for _, rr := range rrs {
			if strings.ToLower(rr.Header().Name) != k.name || rr.Header().Rrtype != k.rtype {
				continue
			}
			if present := slices.Contains(have, rdata(rr)); present != add {
				verb := map[bool]string{true: "added", false: "deleted"}[add]
				return fmt.Errorf("%s acknowledged the update but %s was not %s: the server did not make the change (is it the primary, and is something in front of it answering instead?)",
					b.server, strings.ReplaceAll(rr.String(), "\t", " "), verb)
			}
		}
	}
	return nil
}

// rdata is a record's data in canonical text form, for comparison.
func rdata(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Name, c.Header().Ttl = ".", 0
	return strings.ToLower(c.String())
}

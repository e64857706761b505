package parentzone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// CloudflareConfig configures the Cloudflare backend.
type CloudflareConfig struct {
	APIToken string
	// ZoneID names the zone directly, so the token needs only
	// Zone.DNS:Edit on that one zone; without it the zone is looked up by
	// name once per provider process, which needs Zone:Read as well.
	ZoneID string
	// BaseURL replaces https://api.cloudflare.com (scheme and host), for an
	// API gateway or an emulator; empty means the real API.
	BaseURL string
	// HTTPClient carries the requests; nil means a default client.
	HTTPClient *http.Client
	// MaxWait bounds one wait for a rate limit (Retry-After); Cloudflare
	// blocks a token for several minutes after 1,200 requests in 5
	// minutes. Default 6 minutes; the operation's timeout bounds it too.
	MaxWait time.Duration
	// Limit is the client's own request budget, shared by every backend
	// of the same token in this process; zero means CloudflareLimit.
	Limit RateLimit
	// OnWait is told of each wait for that budget.
	OnWait WaitFunc
}

// NewCloudflare returns a Cloudflare backend: pmgtm's own client of the
// API v4 dns_records endpoints, which lists a zone once per read, deletes
// by the record id it listed (no lookup per delete), writes a hostname's
// whole change (marker and NS set) in one batch request, keeps inside the
// token's request budget, and retries what the edge did not carry out.
func NewCloudflare(cfg CloudflareConfig) (Backend, error) {
	if cfg.APIToken == "" {
		return nil, fmt.Errorf("cloudflare: api_token is empty; set it or CLOUDFLARE_API_TOKEN (a token with Zone.DNS:Edit)")
	}
	base := "https://api.cloudflare.com"
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("cloudflare: base_url %q must be scheme://host[:port], e.g. https://api.cloudflare.com", cfg.BaseURL)
		}
		base = u.Scheme + "://" + u.Host
	}
	if cfg.ZoneID != "" && !validZoneID(cfg.ZoneID) {
		return nil, fmt.Errorf("cloudflare: zone_id %q is not a zone id (32 hex digits, shown on the zone's overview page)", cfg.ZoneID)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Limit == (RateLimit{}) {
		cfg.Limit = CloudflareLimit
	}
	hc = limitedClient(hc, account("cloudflare", cfg.APIToken), cfg.Limit, cfg.OnWait)
	maxWait := cfg.MaxWait
	if maxWait <= 0 {
		maxWait = 6 * time.Minute
	}
	return &cloudflareBackend{token: cfg.APIToken, zoneID: cfg.ZoneID, api: base + "/client/v4", http: hc, maxWait: maxWait,
		zones: map[string]string{}}, nil
}

func validZoneID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

type cloudflareBackend struct {
	token, zoneID, api string
	http               *http.Client
	maxWait            time.Duration

	mu    sync.Mutex
	zones map[string]string // zone name (no dot) -> id, looked up once
}

// cfRecord is a dns_record as the API takes and returns it.
type cfRecord struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	Proxied bool   `json:"proxied"`
}

// cfID is what a listed or created record carries in ProviderData: its id.
type cfID string

// CloudflareError is an error answer of the API.
type CloudflareError struct {
	Status  int
	Codes   []int
	Message string
	// transient: the request was not carried out for a passing reason
	// (rate limit, an edge error page, a 5xx).
	transient bool
	// retryAfter is the wait a 429 asks for (Retry-After); 0: not given.
	retryAfter time.Duration
}

func (e *CloudflareError) Error() string {
	codes := make([]string, len(e.Codes))
	for i, c := range e.Codes {
		codes[i] = strconv.Itoa(c)
	}
	return fmt.Sprintf("cloudflare: HTTP %d [%s]: %s", e.Status, strings.Join(codes, ","), e.Message)
}

// Retryable says whether another try may succeed.
func (e *CloudflareError) Retryable() bool { return e.transient }

func (e *CloudflareError) has(code int) bool {
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// Error codes the API documents for the calls pmgtm makes.
const (
	cfIdenticalRecord = 81058 // an identical record already exists
	cfRecordMissing   = 81044 // record does not exist
	cfCNAMEConflict   = 81054 // a CNAME stands at the name (or the record is a CNAME beside others)
	cfNSConflict      = 81056 // NS records stand at the name, or other records do beside NS
	cfAuthError       = 10000
	cfNotAuthorized   = 9109 // the token may not do this (e.g. no Zone:Read for a zone lookup)
)

// call sends one API request and decodes the envelope's result into out.
// It waits out rate limits itself (429: Retry-After, which after a burst
// is a block of minutes); edge errors (HTML 5xx pages, dropped
// connections) and 5xx answers come back as retryable errors, for the
// Manager's backoff.
func (b *cloudflareBackend) call(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	const rateLimitWaits = 6
	for attempt := 0; ; attempt++ {
		err := b.once(ctx, method, path, payload, out)
		var cfErr *CloudflareError
		if err == nil || !errors.As(err, &cfErr) || cfErr.Status != http.StatusTooManyRequests || attempt >= rateLimitWaits {
			return err
		}
		t := time.NewTimer(retryAfter(cfErr, b.maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

// retryAfter is how long to wait before retrying e: what the API asked
// for (a second when it did not say), within limit.
func retryAfter(e *CloudflareError, limit time.Duration) time.Duration {
	if e.retryAfter > 0 {
		return min(max(e.retryAfter, 100*time.Millisecond), limit)
	}
	return min(time.Second, limit)
}

func (b *cloudflareBackend) once(ctx context.Context, method, path string, payload []byte, out any) error {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.api+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &CloudflareError{Message: err.Error(), transient: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &CloudflareError{Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), transient: true}
	}
	var env struct {
		Success bool `json:"success"`
		Errors  []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Result     json.RawMessage `json:"result"`
		ResultInfo *struct {
			Page       int `json:"page"`
			TotalPages int `json:"total_pages"`
		} `json:"result_info"`
	}
	jerr := json.Unmarshal(data, &env)
	if jerr != nil || !env.Success || resp.StatusCode >= 300 {
		e := &CloudflareError{Status: resp.StatusCode, transient: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			retryAfter: retryAfterHeader(resp)}
		if jerr != nil {
			// Not the API's envelope: an edge error page (HTML 5xx), a proxy.
			e.Message = "the answer is not the API's JSON (" + snippet(data) + ")"
			return e
		}
		var msgs []string
		for _, x := range env.Errors {
			e.Codes = append(e.Codes, x.Code)
			msgs = append(msgs, x.Message)
		}
		e.Message = strings.Join(msgs, "; ")
		return e
	}
	if p, ok := out.(*page); ok {
		p.result = env.Result
		if env.ResultInfo != nil {
			p.page, p.pages = env.ResultInfo.Page, env.ResultInfo.TotalPages
		}
		return nil
	}
	if out != nil && len(env.Result) > 0 {
		return json.Unmarshal(env.Result, out)
	}
	return nil
}

// retryAfterHeader is the answer's Retry-After (seconds); 0 without one.
func retryAfterHeader(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

type page struct {
	result      json.RawMessage
	page, pages int
}

// zone returns the zone's id: the configured one, or looked up by name
// once per process.
func (b *cloudflareBackend) zone(ctx context.Context, name string) (string, error) {
	if b.zoneID != "" {
		return b.zoneID, nil
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	b.mu.Lock()
	id, ok := b.zones[name]
	b.mu.Unlock()
	if ok {
		return id, nil
	}
	var zones []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := b.call(ctx, http.MethodGet, "/zones?name="+url.QueryEscape(name), nil, &zones); err != nil {
		var cfErr *CloudflareError
		if errors.As(err, &cfErr) && (cfErr.has(cfNotAuthorized) || cfErr.Status == http.StatusForbidden) {
			return "", fmt.Errorf("%w; looking a zone up by name needs Zone:Read: give the token Zone:Read, or set cloudflare.zone_id "+
				"(then Zone.DNS:Edit on that zone is enough)", err)
		}
		return "", err
	}
	if len(zones) != 1 {
		return "", fmt.Errorf("cloudflare: the token sees %d zones named %s; check the zone name and the token's zone resources, or set cloudflare.zone_id", len(zones), name)
	}
	b.mu.Lock()
	b.zones[name] = zones[0].ID
	b.mu.Unlock()
	return zones[0].ID, nil
}

// cfZone is a zone as the API calls need it: its id, and its name
// without the dot that record names are made absolute with.
type cfZone struct{ id, apex string }

func (b *cloudflareBackend) target(ctx context.Context, zone string) (cfZone, error) {
	id, err := b.zone(ctx, zone)
	return cfZone{id: id, apex: strings.TrimSuffix(strings.ToLower(zone), ".")}, err
}

// recordsAt lists the records of one name and type.
func (b *cloudflareBackend) recordsAt(ctx context.Context, z cfZone, r cfRecord) ([]cfRecord, error) {
	q := url.Values{"name": {r.Name}, "type": {r.Type}, "per_page": {"5000"}}
	var have []cfRecord
	err := b.call(ctx, http.MethodGet, "/zones/"+z.id+"/dns_records?"+q.Encode(), nil, &have)
	return have, err
}

// GetRecords lists every record of the zone (5,000 per page).
func (b *cloudflareBackend) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := b.target(ctx, zone)
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for n := 1; ; n++ {
		var p page
		if err := b.call(ctx, http.MethodGet, fmt.Sprintf("/zones/%s/dns_records?per_page=5000&page=%d", z.id, n), nil, &p); err != nil {
			return nil, err
		}
		var recs []cfRecord
		if err := json.Unmarshal(p.result, &recs); err != nil {
			return nil, fmt.Errorf("cloudflare: listing %s: %w", zone, err)
		}
		for _, r := range recs {
			out = append(out, fromCloudflare(r, z.apex))
		}
		if n >= p.pages || len(recs) == 0 {
			return out, nil
		}
	}
}

// AppendRecords creates each record. An identical record already there
// (a retried create that had in fact been carried out) counts as created.
func (b *cloudflareBackend) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := b.target(ctx, zone)
	if err != nil {
		return nil, err
	}
	var done []libdns.Record
	for _, rec := range recs {
		var created cfRecord
		err := b.call(ctx, http.MethodPost, "/zones/"+z.id+"/dns_records", toCloudflare(rec, z.apex), &created)
		var cfErr *CloudflareError
		switch {
		case errors.As(err, &cfErr) && cfErr.has(cfIdenticalRecord):
			done = append(done, rec)
		case err != nil:
			return done, err
		default:
			done = append(done, fromCloudflare(created, z.apex))
		}
	}
	return done, nil
}

// DeleteRecords deletes each record by the id it was listed with; one that
// was not listed is looked up first. A record already gone counts as
// deleted.
func (b *cloudflareBackend) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := b.target(ctx, zone)
	if err != nil {
		return nil, err
	}
	var done []libdns.Record
	for _, rec := range recs {
		rid, err := b.recordID(ctx, z, rec, false)
		if err != nil {
			return done, err
		}
		if rid == "" {
			done = append(done, rec) // not there
			continue
		}
		err = b.call(ctx, http.MethodDelete, "/zones/"+z.id+"/dns_records/"+rid, nil, nil)
		var cfErr *CloudflareError
		gone := errors.As(err, &cfErr) && cfErr.has(cfRecordMissing) // deleted by an earlier try
		if err != nil && !gone {
			return done, err
		}
		done = append(done, rec)
	}
	return done, nil
}

// ChangeRecords deletes del and creates add in one batch request, which
// Cloudflare carries out as one transaction: a hostname's marker and NS
// change cost one request. A record to delete that is already gone fails
// the whole batch (81044); the batch is then sent again without it.
func (b *cloudflareBackend) ChangeRecords(ctx context.Context, zone string, del, add []libdns.Record) ([]libdns.Record, error) {
	z, err := b.target(ctx, zone)
	if err != nil {
		return nil, err
	}
	type deletion struct {
		ID string `json:"id"`
	}
	for try := 0; ; try++ {
		batch := struct {
			Deletes []deletion `json:"deletes"`
			Posts   []cfRecord `json:"posts"`
		}{Deletes: []deletion{}, Posts: []cfRecord{}}
		for _, rec := range del {
			rid, err := b.recordID(ctx, z, rec, try > 0) // after 81044, look the ids up again
			if err != nil {
				return nil, err
			}
			if rid != "" {
				batch.Deletes = append(batch.Deletes, deletion{rid})
			}
		}
		for _, rec := range add {
			batch.Posts = append(batch.Posts, toCloudflare(rec, z.apex))
		}
		var out struct {
			Posts []cfRecord `json:"posts"`
		}
		err := b.call(ctx, http.MethodPost, "/zones/"+z.id+"/dns_records/batch", batch, &out)
		var cfErr *CloudflareError
		if errors.As(err, &cfErr) && cfErr.has(cfRecordMissing) && try == 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		created := make([]libdns.Record, 0, len(out.Posts))
		for _, r := range out.Posts {
			created = append(created, fromCloudflare(r, z.apex))
		}
		return created, nil
	}
}

// recordID is the id of rec: from its listing (unless fresh), else
// looked up ("" when the zone does not hold it).
func (b *cloudflareBackend) recordID(ctx context.Context, z cfZone, rec libdns.Record, fresh bool) (string, error) {
	if id, ok := providerData(rec).(cfID); ok && id != "" && !fresh {
		return string(id), nil
	}
	want := toCloudflare(rec, z.apex)
	have, err := b.recordsAt(ctx, z, want)
	if err != nil {
		return "", err
	}
	for _, h := range have {
		if sameContent(want, h) {
			return h.ID, nil
		}
	}
	return "", nil
}

func sameContent(a, b cfRecord) bool {
	norm := func(r cfRecord) string {
		switch r.Type {
		case "TXT":
			return unquoteTXT(r.Content)
		case "NS", "CNAME":
			return strings.TrimSuffix(strings.ToLower(r.Content), ".")
		case "A", "AAAA":
			if ip, err := netip.ParseAddr(r.Content); err == nil {
				return ip.String()
			}
		}
		return r.Content
	}
	return norm(a) == norm(b)
}

func providerData(rec libdns.Record) any {
	switch r := rec.(type) {
	case libdns.Address:
		return r.ProviderData
	case libdns.NS:
		return r.ProviderData
	case libdns.TXT:
		return r.ProviderData
	}
	return nil
}

// toCloudflare renders a record: absolute name, TXT content quoted in zone
// file syntax (as the API recommends), DNS only (never proxied: pmgtm's records are for
// resolvers).
func toCloudflare(rec libdns.Record, apex string) cfRecord {
	rr := rec.RR()
	name := libdns.AbsoluteName(rr.Name, apex)
	r := cfRecord{Name: strings.TrimSuffix(strings.ToLower(name), "."), Type: rr.Type, TTL: int(rr.TTL / time.Second), Content: rr.Data}
	switch v := rec.(type) {
	case libdns.TXT:
		r.Content = quoteTXT(v.Text)
	case libdns.NS:
		r.Content = strings.TrimSuffix(v.Target, ".")
	}
	if r.TTL == 0 {
		r.TTL = 1 // automatic
	}
	return r
}

// fromCloudflare converts a listed record, keeping its id for deletes.
func fromCloudflare(r cfRecord, apex string) libdns.Record {
	name := libdns.RelativeName(r.Name, apex)
	ttl := time.Duration(r.TTL) * time.Second
	id := cfID(r.ID)
	switch r.Type {
	case "A", "AAAA":
		if ip, err := netip.ParseAddr(r.Content); err == nil {
			return libdns.Address{Name: name, TTL: ttl, IP: ip, ProviderData: id}
		}
	case "NS":
		return libdns.NS{Name: name, TTL: ttl, Target: r.Content, ProviderData: id}
	case "TXT":
		return libdns.TXT{Name: name, TTL: ttl, Text: unquoteTXT(r.Content), ProviderData: id}
	}
	return libdns.RR{Name: name, TTL: ttl, Type: r.Type, Data: r.Content}
}

package cloudflare

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
)

// Record is a dns_record as the API returns it.
type Record struct {
	ID string `json:"id"`
	// The zone is not part of a record's answer any more (Cloudflare
	// dropped zone_id and zone_name from dns_records); kept here only.
	ZoneID     string `json:"-"`
	ZoneName   string `json:"-"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Content    string `json:"content"`
	Proxiable  bool   `json:"proxiable"`
	Proxied    bool   `json:"proxied"`
	TTL        int    `json:"ttl"`
	Comment    string `json:"comment,omitempty"`
	CreatedOn  string `json:"created_on"`
	ModifiedOn string `json:"modified_on"`
}

// Scope is what a token may do: Zone:Read (look zones up by name) and
// Zone.DNS:Edit on the zones named (by id; none: every zone).
type Scope struct {
	ZoneRead bool
	Zones    []string
}

// RateLimit is Cloudflare's global API limit: Requests per Window per
// token; once over, every request is answered 429 for Block.
type RateLimit struct {
	Requests      int
	Window, Block time.Duration
}

type window struct {
	start        time.Time
	n            int
	blockedUntil time.Time
}

// Throttled counts requests answered 429 by the rate limit.
func (e *Emulator) Throttled() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttled
}

// ZoneID returns the id of a zone by name ("" when absent).
func (e *Emulator) ZoneID(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, z := range e.zones {
		if z.Name == strings.TrimSuffix(name, ".") {
			return z.ID
		}
	}
	return ""
}

type zone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Emulator is an in-process Cloudflare API on loopback.
type Emulator struct {
	faults.Injector
	Token   string // a token with every permission on every zone
	MaxPage int    // largest per_page honoured (documented 5000000; small values exercise paging)
	// Scoped are further tokens, each limited as a Cloudflare API token is.
	Scoped map[string]Scope
	// Limit, when Requests > 0, is the rate limit per token.
	Limit RateLimit
	// HTMLErrors answers injected faults with 5xx status as the edge does:
	// an HTML page, not the JSON envelope.
	HTMLErrors bool

	srv       *httptest.Server
	rate      map[string]*window
	mu        sync.Mutex
	zones     []zone
	recs      map[string][]*Record // zone id -> records
	nextID    int
	throttled int
}

// New starts an emulator holding the given zones, accepting token.
func New(token string, zoneNames ...string) *Emulator {
	e := &Emulator{Token: token, MaxPage: 5000, recs: map[string][]*Record{}}
	for i, n := range zoneNames {
		id := fmt.Sprintf("%032x", i+1)
		e.zones = append(e.zones, zone{ID: id, Name: strings.TrimSuffix(n, ".")})
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Close stops the emulator.
func (e *Emulator) Close() { e.srv.Close() }

// URL is the emulator's base URL.
func (e *Emulator) URL() string { return e.srv.URL }

// Client returns an HTTP client that sends requests meant for
// api.cloudflare.com to the emulator, for libdns/cloudflare's HTTPClient.
func (e *Emulator) Client() *http.Client {
	target, _ := url.Parse(e.srv.URL)
	return &http.Client{Transport: rewrite{target: target}, Timeout: 30 * time.Second}
}

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = r.target.Scheme, r.target.Host
	out.Host = r.target.Host
	return http.DefaultTransport.RoundTrip(out)
}

// Records returns a copy of a zone's records, sorted by name, type, content.
func (e *Emulator) Records(zoneName string) []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Record
	for _, z := range e.zones {
		if z.Name == strings.TrimSuffix(zoneName, ".") {
			for _, r := range e.recs[z.ID] {
				out = append(out, *r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name+" "+out[i].Type+" "+out[i].Content < out[j].Name+" "+out[j].Type+" "+out[j].Content
	})
	return out
}

// AddRecord puts a record in place directly (a record made outside pmgtm).
func (e *Emulator) AddRecord(zoneName string, r Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, z := range e.zones {
		if z.Name == strings.TrimSuffix(zoneName, ".") {
			e.nextID++
			now := time.Now().UTC().Format(time.RFC3339Nano)
			r.ID, r.ZoneID, r.ZoneName, r.CreatedOn, r.ModifiedOn = fmt.Sprintf("%032x", 1<<20+e.nextID), z.ID, z.Name, now, now
			e.recs[z.ID] = append(e.recs[z.ID], &r)
		}
	}
}

// DeleteRecords removes the records for which drop is true (a change made
// outside pmgtm), and returns how many it removed.
func (e *Emulator) DeleteRecords(zoneName string, drop func(Record) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, z := range e.zones {
		if z.Name != strings.TrimSuffix(zoneName, ".") {
			continue
		}
		kept := e.recs[z.ID][:0]
		for _, r := range e.recs[z.ID] {
			if drop(*r) {
				n++
				continue
			}
			kept = append(kept, r)
		}
		e.recs[z.ID] = kept
	}
	return n
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

type envelope struct {
	Success    bool        `json:"success"`
	Errors     []apiError  `json:"errors"`
	Messages   []any       `json:"messages"`
	Result     any         `json:"result"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

func reply(w http.ResponseWriter, status int, result any, info *resultInfo, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if errs == nil {
		errs = []apiError{}
	}
	_ = json.NewEncoder(w).Encode(envelope{Success: len(errs) == 0, Errors: errs, Messages: []any{}, Result: result, ResultInfo: info})
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/client/v4")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	route := "/" + parts[0]
	if len(parts) >= 3 {
		route = "/zones/:id/dns_records"
		if len(parts) == 4 && parts[3] == "batch" {
			route += "/batch"
		} else if len(parts) == 4 {
			route += "/:rid"
		}
	}
	if f := e.Enter(r.Method, path, route); f != nil {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		}
		if e.HTMLErrors && f.Status >= 500 {
			// The edge answers for an origin it cannot reach: a page.
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>cloudflare</center></body></html>\n", //nolint:gosec // a fixed page of status texts, no input
				f.Status, http.StatusText(f.Status), f.Status, http.StatusText(f.Status))
			return
		}
		code, _ := strconv.Atoi(f.Code)
		reply(w, f.Status, nil, nil, apiError{Code: code, Message: http.StatusText(f.Status)})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	scope, ok := e.Scoped[token]
	if token == e.Token {
		scope, ok = Scope{ZoneRead: true}, true
	}
	if !ok {
		reply(w, http.StatusForbidden, nil, nil, apiError{Code: 10000, Message: "Authentication error"})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if wait := e.limited(token); wait > 0 {
		e.throttled++
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		reply(w, http.StatusTooManyRequests, nil, nil, apiError{Code: 971, Message: "Please wait and consider throttling your request speed"})
		return
	}
	denied := func() {
		reply(w, http.StatusForbidden, nil, nil, apiError{Code: 9109, Message: "Unauthorized to access requested resource"})
	}
	if len(parts) >= 2 && len(scope.Zones) > 0 && !slices.Contains(scope.Zones, parts[1]) {
		denied()
		return
	}
	switch {
	case len(parts) == 1 && parts[0] == "zones" && r.Method == http.MethodGet:
		if !scope.ZoneRead {
			denied()
			return
		}
		e.listZones(w, r)
	case len(parts) == 4 && parts[2] == "dns_records" && parts[3] == "batch" && r.Method == http.MethodPost:
		e.batch(w, r, parts[1])
	case len(parts) == 3 && parts[2] == "dns_records" && r.Method == http.MethodGet:
		e.listRecords(w, r, parts[1])
	case len(parts) == 3 && parts[2] == "dns_records" && r.Method == http.MethodPost:
		e.createRecord(w, r, parts[1])
	case len(parts) == 4 && parts[2] == "dns_records":
		e.changeRecord(w, r, parts[1], parts[3])
	default:
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7003, Message: "Could not route to " + path + ", perhaps your object identifier is invalid?"})
	}
}

// limited counts a request of token against the rate limit and returns how
// long the token is still blocked (0: go ahead). Callers hold mu.
func (e *Emulator) limited(token string) time.Duration {
	if e.Limit.Requests <= 0 {
		return 0
	}
	if e.rate == nil {
		e.rate = map[string]*window{}
	}
	now := time.Now()
	w := e.rate[token]
	if w == nil || now.Sub(w.start) >= e.Limit.Window {
		if w != nil && now.Before(w.blockedUntil) {
			return w.blockedUntil.Sub(now)
		}
		w = &window{start: now}
		e.rate[token] = w
	}
	if now.Before(w.blockedUntil) {
		return w.blockedUntil.Sub(now)
	}
	w.n++
	if w.n > e.Limit.Requests {
		w.blockedUntil = now.Add(e.Limit.Block)
		return e.Limit.Block
	}
	return 0
}

func (e *Emulator) listZones(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	out := []zone{}
	for _, z := range e.zones {
		if name == "" || z.Name == strings.TrimSuffix(name, ".") {
			out = append(out, z)
		}
	}
	reply(w, http.StatusOK, out, &resultInfo{Page: 1, PerPage: 20, Count: len(out), TotalCount: len(out), TotalPages: 1})
}

func (e *Emulator) zoneByID(w http.ResponseWriter, id string) (zone, bool) {
	for _, z := range e.zones {
		if z.ID == id {
			return z, true
		}
	}
	reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7003, Message: "Could not route to /zones/" + id + ", perhaps your object identifier is invalid?"})
	return zone{}, false
}

func (e *Emulator) listRecords(w http.ResponseWriter, r *http.Request, zoneID string) {
	z, ok := e.zoneByID(w, zoneID)
	if !ok {
		return
	}
	q := r.URL.Query()
	page, perPage := atoiDefault(q.Get("page"), 1), atoiDefault(q.Get("per_page"), 100)
	if page < 1 || perPage < 5 {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 1004, Message: "DNS Validation Error: page must be >= 1 and per_page >= 5"})
		return
	}
	perPage = min(perPage, e.MaxPage)
	var match []*Record
	for _, rec := range e.recs[z.ID] {
		if (q.Get("type") == "" || rec.Type == q.Get("type")) &&
			(q.Get("name") == "" || rec.Name == strings.TrimSuffix(strings.ToLower(q.Get("name")), ".")) &&
			(q.Get("content.exact") == "" || rec.Content == q.Get("content.exact")) &&
			(q.Get("content.contains") == "" || strings.Contains(rec.Content, q.Get("content.contains"))) {
			match = append(match, rec)
		}
	}
	total := len(match)
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	out := make([]Record, 0, end-start)
	for _, rec := range match[start:end] {
		out = append(out, *rec)
	}
	reply(w, http.StatusOK, out, &resultInfo{Page: page, PerPage: perPage, Count: len(out), TotalCount: total,
		TotalPages: (total + perPage - 1) / perPage})
}

type recordBody struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	Proxied bool   `json:"proxied"`
	Comment string `json:"comment"`
}

func (e *Emulator) createRecord(w http.ResponseWriter, r *http.Request, zoneID string) {
	z, ok := e.zoneByID(w, zoneID)
	if !ok {
		return
	}
	var b recordBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	rec, apiErr := e.validate(z, b, "")
	if apiErr != nil {
		reply(w, http.StatusBadRequest, nil, nil, *apiErr)
		return
	}
	e.nextID++
	now := time.Now().UTC().Format(time.RFC3339Nano)
	rec.ID, rec.ZoneID, rec.ZoneName, rec.CreatedOn, rec.ModifiedOn = fmt.Sprintf("%032x", e.nextID), z.ID, z.Name, now, now
	e.recs[z.ID] = append(e.recs[z.ID], &rec)
	reply(w, http.StatusOK, rec, nil)
}

// validate checks a record the way the API does and returns it normalised.
func (e *Emulator) validate(z zone, b recordBody, selfID string) (Record, *apiError) {
	name := strings.TrimSuffix(strings.ToLower(b.Name), ".")
	if name == "@" || name == "" {
		name = z.Name
	} else if name != z.Name && !strings.HasSuffix(name, "."+z.Name) {
		name += "." + z.Name
	}
	content := b.Content
	switch b.Type {
	case "NS", "CNAME":
		content = strings.TrimSuffix(strings.ToLower(content), ".")
	case "A", "AAAA", "TXT", "MX", "CAA", "SRV":
	default:
		return Record{}, &apiError{Code: 9005, Message: "Invalid DNS record type"}
	}
	ttl := b.TTL
	if ttl == 0 {
		ttl = 1 // automatic
	}
	if ttl != 1 && (ttl < 60 || ttl > 86400) {
		return Record{}, &apiError{Code: 9021, Message: "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."}
	}
	rec := Record{Name: name, Type: b.Type, Content: content, TTL: ttl, Comment: b.Comment, Proxiable: b.Type == "A" || b.Type == "AAAA"}
	for _, o := range e.recs[z.ID] {
		if o.ID == selfID {
			continue
		}
		switch {
		case o.Name == name && o.Type == rec.Type && sameContent(o.Type, o.Content, rec.Content):
			return Record{}, &apiError{Code: 81058, Message: "An identical record already exists."}
		case o.Name == name && (o.Type == "CNAME") != (rec.Type == "CNAME"):
			return Record{}, &apiError{Code: 81054, Message: "A CNAME record with that host already exists."}
		case name != z.Name && rec.Type != "NS" && rec.Type != "DS" && o.Type == "NS" && (o.Name == name || strings.HasSuffix(name, "."+o.Name)) && o.Name != z.Name:
			return Record{}, &apiError{Code: 81056, Message: fmt.Sprintf("NS records with that host already exist: %s is at or beneath the delegated %s.", name, o.Name)}
		case rec.Type == "NS" && o.Type != "NS" && o.Type != "DS" && (o.Name == name || strings.HasSuffix(o.Name, "."+name)):
			return Record{}, &apiError{Code: 81056, Message: fmt.Sprintf("A record with that host already exists: cannot delegate %s, a %s record is at or beneath it (%s).", name, o.Type, o.Name)}
		}
	}
	return rec, nil
}

func (e *Emulator) changeRecord(w http.ResponseWriter, r *http.Request, zoneID, recordID string) {
	z, ok := e.zoneByID(w, zoneID)
	if !ok {
		return
	}
	list := e.recs[z.ID]
	idx := -1
	for i, rec := range list {
		if rec.ID == recordID {
			idx = i
		}
	}
	if idx < 0 {
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 81044, Message: "Record does not exist."})
		return
	}
	switch r.Method {
	case http.MethodGet:
		reply(w, http.StatusOK, *list[idx], nil)
	case http.MethodDelete:
		e.recs[z.ID] = append(list[:idx:idx], list[idx+1:]...)
		reply(w, http.StatusOK, map[string]string{"id": recordID}, nil)
	case http.MethodPatch, http.MethodPut:
		b := recordBody{Name: list[idx].Name, Type: list[idx].Type, Content: list[idx].Content, TTL: list[idx].TTL}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
			return
		}
		rec, apiErr := e.validate(z, b, recordID)
		if apiErr != nil {
			reply(w, http.StatusBadRequest, nil, nil, *apiErr)
			return
		}
		rec.ID, rec.ZoneID, rec.ZoneName, rec.CreatedOn = recordID, z.ID, z.Name, list[idx].CreatedOn
		rec.ModifiedOn = time.Now().UTC().Format(time.RFC3339Nano)
		*list[idx] = rec
		reply(w, http.StatusOK, rec, nil)
	default:
		reply(w, http.StatusMethodNotAllowed, nil, nil, apiError{Code: 10000, Message: "Method not allowed"})
	}
}

// sameContent compares record contents as the API does: TXT quoted or
// not is the same text.
func sameContent(rtype, a, b string) bool {
	if rtype == "TXT" {
		return strings.Trim(a, `"`) == strings.Trim(b, `"`)
	}
	return a == b
}

// batch runs deletes, then posts, in one transaction: when any fails,
// nothing is changed (the documented order is deletes, patches, puts,
// posts; pmgtm sends only deletes and posts).
func (e *Emulator) batch(w http.ResponseWriter, r *http.Request, zoneID string) {
	z, ok := e.zoneByID(w, zoneID)
	if !ok {
		return
	}
	var b struct {
		Deletes []struct {
			ID string `json:"id"`
		} `json:"deletes"`
		Posts []recordBody `json:"posts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	saved := append([]*Record(nil), e.recs[z.ID]...)
	savedID := e.nextID
	fail := func(status int, err apiError) {
		e.recs[z.ID], e.nextID = saved, savedID
		reply(w, status, nil, nil, err)
	}
	var deleted, posted []Record
	for _, d := range b.Deletes {
		list := e.recs[z.ID]
		idx := slices.IndexFunc(list, func(rec *Record) bool { return rec.ID == d.ID })
		if idx < 0 {
			fail(http.StatusNotFound, apiError{Code: 81044, Message: "Record does not exist."})
			return
		}
		deleted = append(deleted, *list[idx])
		e.recs[z.ID] = append(list[:idx:idx], list[idx+1:]...)
	}
	for _, p := range b.Posts {
		rec, apiErr := e.validate(z, p, "")
		if apiErr != nil {
			fail(http.StatusBadRequest, *apiErr)
			return
		}
		e.nextID++
		now := time.Now().UTC().Format(time.RFC3339Nano)
		rec.ID, rec.ZoneID, rec.ZoneName, rec.CreatedOn, rec.ModifiedOn = fmt.Sprintf("%032x", e.nextID), z.ID, z.Name, now, now
		e.recs[z.ID] = append(e.recs[z.ID], &rec)
		posted = append(posted, rec)
	}
	reply(w, http.StatusOK, map[string][]Record{"deletes": deleted, "posts": posted}, nil)
}

func atoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

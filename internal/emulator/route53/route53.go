package route53

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
)

const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// RRSet is a resource record set.
type RRSet struct {
	Name    string     `xml:"Name"`
	Type    string     `xml:"Type"`
	TTL     int64      `xml:"TTL"`
	Records []RRRecord `xml:"ResourceRecords>ResourceRecord"`
}

// RRRecord is one value of a record set.
type RRRecord struct {
	Value string `xml:"Value"`
}

// Set builds a record set from plain values.
func Set(name, rtype string, ttl int64, values ...string) RRSet {
	s := RRSet{Name: name, Type: rtype, TTL: ttl}
	for _, v := range values {
		s.Records = append(s.Records, RRRecord{Value: v})
	}
	return s
}

// Values returns the set's values.
func (s RRSet) Values() []string {
	out := make([]string, 0, len(s.Records))
	for _, r := range s.Records {
		out = append(out, r.Value)
	}
	return out
}

type hostedZone struct {
	ID   string
	Name string
	sets []*RRSet
}

// Emulator is an in-process Route 53 API on loopback.
type Emulator struct {
	faults.Injector
	AccessKeyID string
	PageSize    int     // largest maxitems honoured (the service caps at 300)
	RateLimit   float64 // requests per second; 0 disables throttling

	srv       *httptest.Server
	mu        sync.Mutex
	zones     []*hostedZone
	changes   int
	throttled int
	tokens    float64
	last      time.Time
}

// New starts an emulator with the given hosted zones, accepting requests
// signed with accessKeyID.
func New(accessKeyID string, zoneNames ...string) *Emulator {
	e := &Emulator{AccessKeyID: accessKeyID, PageSize: 300}
	for i, n := range zoneNames {
		name := strings.TrimSuffix(strings.ToLower(n), ".") + "."
		soa := Set(name, "SOA", 900, "ns-1.awsdns.test. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")
		ns := Set(name, "NS", 172800, "ns-1.awsdns.test.", "ns-2.awsdns.test.")
		e.zones = append(e.zones, &hostedZone{ID: fmt.Sprintf("Z%013d", i+1), Name: name, sets: []*RRSet{&soa, &ns}})
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Close stops the emulator.
func (e *Emulator) Close() { e.srv.Close() }

// URL is the endpoint to give the SDK (AWS_ENDPOINT_URL_ROUTE_53).
func (e *Emulator) URL() string { return e.srv.URL }

// Sets returns a copy of a zone's record sets.
func (e *Emulator) Sets(zoneName string) []RRSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []RRSet
	if z := e.zoneByName(zoneName); z != nil {
		for _, s := range z.sets {
			c := *s
			c.Records = append([]RRRecord(nil), s.Records...)
			out = append(out, c)
		}
	}
	return out
}

// PutSet creates or replaces a record set directly (made outside pmgtm).
func (e *Emulator) PutSet(zoneName string, s RRSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	z := e.zoneByName(zoneName)
	s.Name = canonical(s.Name)
	for i, o := range z.sets {
		if o.Name == s.Name && o.Type == s.Type {
			z.sets[i] = &s
			return
		}
	}
	z.sets = append(z.sets, &s)
	sortSets(z.sets)
}

// DeleteSet removes a record set directly (a change made outside pmgtm).
func (e *Emulator) DeleteSet(zoneName, name, rtype string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	z := e.zoneByName(zoneName)
	name = canonical(name)
	for i, o := range z.sets {
		if o.Name == name && o.Type == rtype {
			z.sets = append(z.sets[:i], z.sets[i+1:]...)
			return
		}
	}
}

func (e *Emulator) zoneByName(name string) *hostedZone {
	for _, z := range e.zones {
		if z.Name == canonical(name) {
			return z
		}
	}
	return nil
}

func canonical(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") + "." }

// reversed sorts names the way Route 53 lists them: by labels from the
// right (com.example.api).
func reversed(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func sortSets(sets []*RRSet) {
	sort.Slice(sets, func(i, j int) bool {
		a, b := reversed(sets[i].Name), reversed(sets[j].Name)
		if a != b {
			return a < b
		}
		return sets[i].Type < sets[j].Type
	})
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type invalidChangeBatch struct {
	XMLName   xml.Name `xml:"InvalidChangeBatch"`
	Xmlns     string   `xml:"xmlns,attr"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	writeXML(w, status, errorResponse{Xmlns: xmlns, Type: kind, Code: code, Message: msg, RequestID: "emulator"})
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/2013-04-01")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	route := "/" + parts[0]
	if len(parts) > 2 {
		route = "/hostedzone/:id/rrset"
	} else if len(parts) == 2 {
		route = "/" + parts[0] + "/:id"
	}
	if f := e.Enter(r.Method, path, route); f != nil {
		code := f.Code
		if code == "" {
			code = "InternalFailure"
		}
		apiError(w, f.Status, code, "injected fault")
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "Credential="+e.AccessKeyID+"/") {
		apiError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.allow() {
		e.throttled++
		apiError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	}
	switch {
	case parts[0] == "hostedzonesbyname" && r.Method == http.MethodGet:
		e.listZones(w, r)
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "rrset" && r.Method == http.MethodGet:
		e.listSets(w, r, parts[1])
	case parts[0] == "hostedzone" && len(parts) == 3 && parts[2] == "rrset" && r.Method == http.MethodPost:
		e.change(w, r, parts[1])
	case parts[0] == "change" && len(parts) == 2 && r.Method == http.MethodGet:
		writeXML(w, http.StatusOK, getChangeResponse{Xmlns: xmlns, ChangeInfo: changeInfo{ID: "/change/" + parts[1],
			Status: "INSYNC", SubmittedAt: time.Now().UTC().Format(time.RFC3339)}})
	default:
		apiError(w, http.StatusNotFound, "UnknownOperation", "no such operation: "+r.Method+" "+path)
	}
}

// allow is a token bucket of RateLimit requests per second. Callers hold mu.
func (e *Emulator) allow() bool {
	if e.RateLimit <= 0 {
		return true
	}
	now := time.Now()
	if e.last.IsZero() {
		e.tokens = e.RateLimit
	} else {
		e.tokens = min(e.RateLimit, e.tokens+now.Sub(e.last).Seconds()*e.RateLimit)
	}
	e.last = now
	if e.tokens < 1 {
		return false
	}
	e.tokens--
	return true
}

type hostedZoneXML struct {
	ID              string `xml:"Id"`
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	PrivateZone     bool   `xml:"Config>PrivateZone"`
	RecordCount     int    `xml:"ResourceRecordSetCount"`
}

type listZonesResponse struct {
	XMLName     xml.Name        `xml:"ListHostedZonesByNameResponse"`
	Xmlns       string          `xml:"xmlns,attr"`
	HostedZones []hostedZoneXML `xml:"HostedZones>HostedZone"`
	DNSName     string          `xml:"DNSName,omitempty"`
	IsTruncated bool            `xml:"IsTruncated"`
	MaxItems    int             `xml:"MaxItems"`
	NextDNSName string          `xml:"NextDNSName,omitempty"`
}

func (e *Emulator) listZones(w http.ResponseWriter, r *http.Request) {
	dnsName := r.URL.Query().Get("dnsname")
	maxItems := atoiDefault(r.URL.Query().Get("maxitems"), 100)
	zones := append([]*hostedZone(nil), e.zones...)
	sort.Slice(zones, func(i, j int) bool { return reversed(zones[i].Name) < reversed(zones[j].Name) })
	out := listZonesResponse{Xmlns: xmlns, DNSName: dnsName, MaxItems: maxItems, HostedZones: []hostedZoneXML{}}
	for _, z := range zones {
		if dnsName != "" && reversed(z.Name) < reversed(canonical(dnsName)) {
			continue
		}
		if len(out.HostedZones) == maxItems {
			out.IsTruncated, out.NextDNSName = true, z.Name
			break
		}
		out.HostedZones = append(out.HostedZones, hostedZoneXML{ID: "/hostedzone/" + z.ID, Name: z.Name,
			CallerReference: z.ID, RecordCount: len(z.sets)})
	}
	writeXML(w, http.StatusOK, out)
}

type listSetsResponse struct {
	XMLName        xml.Name `xml:"ListResourceRecordSetsResponse"`
	Xmlns          string   `xml:"xmlns,attr"`
	Sets           []RRSet  `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated    bool     `xml:"IsTruncated"`
	MaxItems       int      `xml:"MaxItems"`
	NextRecordName string   `xml:"NextRecordName,omitempty"`
	NextRecordType string   `xml:"NextRecordType,omitempty"`
}

func (e *Emulator) zoneByID(w http.ResponseWriter, id string) *hostedZone {
	for _, z := range e.zones {
		if z.ID == id {
			return z
		}
	}
	apiError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
	return nil
}

func (e *Emulator) listSets(w http.ResponseWriter, r *http.Request, id string) {
	z := e.zoneByID(w, id)
	if z == nil {
		return
	}
	q := r.URL.Query()
	maxItems := min(atoiDefault(q.Get("maxitems"), 300), e.PageSize)
	startName, startType := q.Get("name"), q.Get("type")
	out := listSetsResponse{Xmlns: xmlns, MaxItems: maxItems, Sets: []RRSet{}}
	for _, s := range z.sets {
		if startName != "" {
			a, b := reversed(s.Name), reversed(canonical(startName))
			if a < b || (a == b && startType != "" && s.Type < startType) {
				continue
			}
		}
		if len(out.Sets) == maxItems {
			out.IsTruncated, out.NextRecordName, out.NextRecordType = true, s.Name, s.Type
			break
		}
		out.Sets = append(out.Sets, *s)
	}
	writeXML(w, http.StatusOK, out)
}

type changeRequest struct {
	Changes []struct {
		Action string `xml:"Action"`
		Set    RRSet  `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
}

type changeResponse struct {
	XMLName    xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

type getChangeResponse struct {
	XMLName    xml.Name   `xml:"GetChangeResponse"`
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

// change applies a batch atomically: every change is checked against the
// zone as the earlier changes of the batch leave it, and any failure
// rejects the whole batch.
func (e *Emulator) change(w http.ResponseWriter, r *http.Request, id string) {
	z := e.zoneByID(w, id)
	if z == nil {
		return
	}
	var req changeRequest
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Changes) == 0 {
		apiError(w, http.StatusBadRequest, "InvalidInput", "Invalid XML ; the batch must hold at least one change")
		return
	}
	sets := make([]*RRSet, 0, len(z.sets))
	for _, s := range z.sets {
		c := *s
		sets = append(sets, &c)
	}
	var problems []string
	for _, c := range req.Changes {
		s := c.Set
		s.Name = canonical(s.Name)
		if s.Name != z.Name && !strings.HasSuffix(s.Name, "."+z.Name) {
			problems = append(problems, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", s.Name, z.Name))
			continue
		}
		idx := -1
		for i, o := range sets {
			if o.Name == s.Name && o.Type == s.Type {
				idx = i
			}
		}
		desc := fmt.Sprintf("[name='%s', type='%s']", s.Name, s.Type)
		switch c.Action {
		case "CREATE", "UPSERT":
			if len(s.Records) == 0 {
				problems = append(problems, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with "+desc)
				continue
			}
			if p := badValues(s); p != "" {
				problems = append(problems, p)
				continue
			}
			if c.Action == "CREATE" && idx >= 0 {
				problems = append(problems, "Tried to create resource record set "+desc+" but it already exists")
				continue
			}
			if cname := conflictsWithCNAME(sets, s); cname != "" {
				problems = append(problems, "RRSet of type "+s.Type+" with DNS name "+s.Name+" is not permitted because a conflicting RRSet of type "+cname+" with the same DNS name already exists in zone "+z.Name)
				continue
			}
			if idx >= 0 {
				sets[idx] = &s
			} else {
				sets = append(sets, &s)
			}
		case "DELETE":
			if idx < 0 {
				problems = append(problems, "Tried to delete resource record set "+desc+" but it was not found")
				continue
			}
			if sets[idx].TTL != s.TTL || !sameValues(sets[idx].Values(), s.Values()) {
				problems = append(problems, "Tried to delete resource record set "+desc+" but the values provided do not match the current values")
				continue
			}
			sets = append(sets[:idx], sets[idx+1:]...)
		default:
			problems = append(problems, "Invalid action "+c.Action)
		}
	}
	if len(problems) > 0 {
		writeXML(w, http.StatusBadRequest, invalidChangeBatch{Xmlns: xmlns, Messages: problems, RequestID: "emulator"})
		return
	}
	sortSets(sets)
	z.sets = sets
	e.changes++
	writeXML(w, http.StatusOK, changeResponse{Xmlns: xmlns, ChangeInfo: changeInfo{ID: fmt.Sprintf("/change/C%012d", e.changes),
		Status: "PENDING", SubmittedAt: time.Now().UTC().Format(time.RFC3339)}})
}

// badValues is the service's complaint about a set's values: the same
// value twice, or TXT text without its quotes.
func badValues(s RRSet) string {
	seen := map[string]bool{}
	for _, v := range s.Values() {
		if seen[v] {
			return "Duplicate Resource Record: '" + v + "'"
		}
		seen[v] = true
		if s.Type == "TXT" && !strings.HasPrefix(v, `"`) {
			return "Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '" + v + "''"
		}
	}
	return ""
}

// Throttled counts requests answered Throttling by the rate limit.
func (e *Emulator) Throttled() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttled
}

func conflictsWithCNAME(sets []*RRSet, s RRSet) string {
	for _, o := range sets {
		if o.Name == s.Name && o.Type != s.Type && (o.Type == "CNAME" || s.Type == "CNAME") {
			return o.Type
		}
	}
	return ""
}

func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if !strings.EqualFold(x[i], y[i]) {
			return false
		}
	}
	return true
}

func atoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

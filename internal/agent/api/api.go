package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/fence"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/store"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Handler serves the admin API.
type Handler struct {
	Store   *store.Store
	Log     *slog.Logger
	Version string
	Started time.Time
	// Tokens returns the bearer tokens accepted (two during a rotation);
	// none disables authentication (--insecure-no-token, loopback only).
	Tokens func() []string
	// Fencing reports self-fencing state; nil when not running.
	Fencing interface{ Statuses() []fence.Status }
	// RRL counts rate-limited answers; nil when rate limiting is off.
	RRL *rrl.Limiter

	mux      *http.ServeMux
	failures *authLimit
	// Refused counts requests refused for authentication: without a
	// valid token (unauthorized), or from a blocked address (blocked).
	refused *refusals
	// served counts authorized requests by route pattern, fixed at New;
	// connections counts accepted API connections (see ConnOpened).
	served      map[string]*atomic.Int64
	routes      []string // the patterns, in the order metrics lists them
	connections *atomic.Int64
}

type refusals struct{ unauthorized, blocked atomic.Int64 }

// New returns the API with its routes.
func New(h Handler) *Handler {
	h.mux = http.NewServeMux()
	h.failures = newAuthLimit(time.Now)
	h.refused = new(refusals)
	h.served, h.connections = map[string]*atomic.Int64{}, new(atomic.Int64)
	for _, r := range []struct {
		pattern string
		handle  http.HandlerFunc
	}{
		{"PUT /v1/zones/{fqdn}", h.putZone}, {"GET /v1/zones/{fqdn}", h.getZone}, {"DELETE /v1/zones/{fqdn}", h.deleteZone},
		{"PUT /v1/zones/{fqdn}/drain", h.drain}, {"GET /v1/zones", h.listZones}, {"GET /v1/health", h.health}, {"GET /metrics", h.metrics},
	} {
		h.mux.HandleFunc(r.pattern, r.handle)
		h.served[r.pattern] = new(atomic.Int64)
		h.routes = append(h.routes, r.pattern)
	}
	return &h
}

// ConnOpened counts an accepted connection: a client that opens one per
// request (no keep-alive) shows up as connections close to requests.
func (h *Handler) ConnOpened() { h.connections.Add(1) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The token is checked first: a valid token is never blocked, even from
	// an address (a NAT, a shared bastion) that others fail from. Tokens
	// are at least 16 characters, so the block is about noise and weak
	// guesses, not the only thing between a guesser and the API.
	if h.authorized(r) {
		h.mux.ServeHTTP(w, r)
		if c := h.served[r.Pattern]; c != nil {
			c.Add(1)
		}
		return
	}
	client := remoteAddr(r)
	// A refused client gets its connection closed: keep-alive connections
	// of callers without a token would otherwise hold descriptors.
	w.Header().Set("Connection", "close")
	if blocked, left := h.failures.blocked(client); blocked {
		h.refused.blocked.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(int(left.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, &zone.FieldError{Message: "too many failed authentications; try again later"})
		return
	}
	// No detail: a caller without the token learns nothing. The log names
	// the client, never what it sent.
	h.refused.unauthorized.Add(1)
	if h.failures.fail(client) {
		h.Log.Warn("api client blocked after repeated failed authentication", "client", client.String(), "for", h.failures.block.String())
	} else {
		h.Log.Info("api request without a valid token", "client", client.String(), "method", r.Method, "path", r.URL.Path)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="pmgtm-agent"`)
	writeError(w, http.StatusUnauthorized, &zone.FieldError{Message: "unauthorized"})
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (h *Handler) authorized(r *http.Request) bool {
	tokens := h.Tokens()
	if len(tokens) == 0 {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	// Hashing first makes the comparison constant-time in the length too;
	// every token is compared, so timing does not tell which one matched.
	a := sha256.Sum256([]byte(got))
	match := 0
	for _, want := range tokens {
		b := sha256.Sum256([]byte(want))
		match |= subtle.ConstantTimeCompare(a[:], b[:])
	}
	return match == 1
}

func (h *Handler) putZone(w http.ResponseWriter, r *http.Request) {
	name, fe := pathZone(r)
	if fe != nil {
		writeError(w, http.StatusBadRequest, fe)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, zone.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, &zone.FieldError{
				Message: "body is larger than the limit of " + strconv.Itoa(zone.MaxBodyBytes) + " bytes"})
			return
		}
		writeError(w, http.StatusBadRequest, &zone.FieldError{Message: "reading the body: " + err.Error()})
		return
	}
	z, fe := zone.Decode(data, name)
	if fe != nil {
		writeError(w, http.StatusUnprocessableEntity, fe)
		return
	}
	stored, created, err := h.Store.Put(z)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			status = http.StatusInsufficientStorage
		}
		h.Log.Error("zone not stored", "zone", name, "error", err)
		writeError(w, status, &zone.FieldError{Message: "the zone was not stored (the zone in service is unchanged): " + err.Error()})
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.Log.Info("zone stored", "zone", stored.Name, "serial", stored.Serial, "created", created, "remote", r.RemoteAddr)
	writeJSONBytes(w, status, zone.Encode(stored))
}

func (h *Handler) getZone(w http.ResponseWriter, r *http.Request) {
	name, fe := pathZone(r)
	if fe != nil {
		writeError(w, http.StatusBadRequest, fe)
		return
	}
	z, ok := h.Store.Get(name)
	if !ok {
		writeError(w, http.StatusNotFound, &zone.FieldError{Field: "zone", Message: name + " is not served by this agent"})
		return
	}
	writeJSONBytes(w, http.StatusOK, zone.Encode(z))
}

func (h *Handler) deleteZone(w http.ResponseWriter, r *http.Request) {
	name, fe := pathZone(r)
	if fe != nil {
		writeError(w, http.StatusBadRequest, fe)
		return
	}
	deleted, err := h.Store.Delete(name)
	switch {
	case err != nil:
		h.Log.Error("zone not deleted", "zone", name, "error", err)
		writeError(w, http.StatusInternalServerError, &zone.FieldError{Message: "the zone was not deleted: " + err.Error()})
	case !deleted:
		writeError(w, http.StatusNotFound, &zone.FieldError{Field: "zone", Message: name + " is not served by this agent"})
	default:
		h.Log.Info("zone deleted", "zone", name, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) listZones(w http.ResponseWriter, _ *http.Request) {
	list := h.Store.List()
	out := zone.ZoneList{Zones: make([]zone.ZoneSummary, 0, len(list))}
	for _, z := range list {
		out.Zones = append(out.Zones, zone.ZoneSummary{Zone: z.Name, Serial: z.Serial})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) health(w http.ResponseWriter, _ *http.Request) {
	out := zone.HealthReport{Status: zone.HealthReportOK, Version: h.Version, Zones: h.Store.Table().Len(),
		Uptime: time.Since(h.Started).Seconds(), Problems: h.Store.Problems(), Fencing: h.fencing()}
	if len(out.Problems) > 0 {
		out.Status = zone.HealthReportDegraded
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) fencing() []fence.Status {
	if h.Fencing == nil {
		return []fence.Status{}
	}
	return h.Fencing.Statuses()
}

// drain sets or clears the zone's drain switch ({"drain": true}). It is a
// change of the stored zone like any other, so it survives restarts and
// shows as drift to Terraform, which manages it through pmgtm_hostname.
func (h *Handler) drain(w http.ResponseWriter, r *http.Request) {
	name, fe := pathZone(r)
	if fe != nil {
		writeError(w, http.StatusBadRequest, fe)
		return
	}
	var body struct {
		Drain *bool `json:"drain"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1024))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Drain == nil {
		writeError(w, http.StatusBadRequest, &zone.FieldError{Field: "drain", Message: `send {"drain": true} or {"drain": false}`})
		return
	}
	z, ok := h.Store.Get(name)
	if !ok {
		writeError(w, http.StatusNotFound, &zone.FieldError{Field: "zone", Message: name + " is not served here"})
		return
	}
	z.Drain, z.Serial = *body.Drain, 0
	stored, _, err := h.Store.Put(z)
	if err != nil {
		h.Log.Error("drain not stored", "zone", name, "error", err)
		writeError(w, http.StatusInternalServerError, &zone.FieldError{Message: "the change could not be stored: " + err.Error()})
		return
	}
	h.Log.Info("drain switched", "zone", name, "drain", stored.Drain, "serial", stored.Serial)
	writeJSONBytes(w, http.StatusOK, zone.Encode(stored))
}

func pathZone(r *http.Request) (string, *zone.FieldError) {
	name, err := zone.CanonicalName(r.PathValue("fqdn"))
	if err != nil {
		return "", &zone.FieldError{Field: "zone", Message: err.Error()}
	}
	return name, nil
}

func writeError(w http.ResponseWriter, status int, fe *zone.FieldError) {
	writeJSON(w, status, struct {
		Error *zone.FieldError `json:"error"`
	}{fe})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	writeJSONBytes(w, status, append(data, '\n'))
}

func writeJSONBytes(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data) //nolint:gosec // JSON we encoded ourselves, served as application/json
}

package api

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// metrics writes the Prometheus text format by hand: the counters live in
// the responder's per-zone arrays, so the hot path pays one atomic add and
// no label lookup.
func (h *Handler) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	tab := h.Store.Table()

	fmt.Fprintln(bw, "# HELP pmgtm_dns_queries_total DNS queries answered, by zone, query type and response code.")
	fmt.Fprintln(bw, "# TYPE pmgtm_dns_queries_total counter")
	var zones []*responder.Zone
	tab.Each(func(z *responder.Zone) { zones = append(zones, z) })
	sort.Slice(zones, func(i, j int) bool { return zones[i].Model.Name < zones[j].Model.Name })
	for _, z := range zones {
		writeCounters(bw, z.Model.Name, z.Counters())
	}
	writeCounters(bw, "", tab.Unmatched)

	fmt.Fprintln(bw, "# HELP pmgtm_zones Zones in service.")
	fmt.Fprintln(bw, "# TYPE pmgtm_zones gauge")
	fmt.Fprintf(bw, "pmgtm_zones %d\n", tab.Len())
	fmt.Fprintln(bw, "# HELP pmgtm_zone_load_problems Stored zone files that failed to load at the last (re)load.")
	fmt.Fprintln(bw, "# TYPE pmgtm_zone_load_problems gauge")
	fmt.Fprintf(bw, "pmgtm_zone_load_problems %d\n", len(h.Store.Problems()))
	statuses := h.fencing()
	fmt.Fprintln(bw, "# HELP pmgtm_zone_withdrawn 1 while self-fencing withdraws the zone (health check failing or drained).")
	fmt.Fprintln(bw, "# TYPE pmgtm_zone_withdrawn gauge")
	for _, s := range statuses {
		fmt.Fprintf(bw, "pmgtm_zone_withdrawn{zone=%q,mode=%q} %d\n", s.Zone, s.Mode, b2i(s.Withdrawn))
	}
	fmt.Fprintln(bw, "# HELP pmgtm_zone_local_healthy 1 while the zone's local load balancer passes its health check (0 failing; absent without a check).")
	fmt.Fprintln(bw, "# TYPE pmgtm_zone_local_healthy gauge")
	for _, s := range statuses {
		if s.Local != zone.LocalUnchecked {
			fmt.Fprintf(bw, "pmgtm_zone_local_healthy{zone=%q} %d\n", s.Zone, b2i(s.Local == zone.HealthOK))
		}
	}
	if h.RRL != nil {
		fmt.Fprintln(bw, "# HELP pmgtm_rrl_limited_total UDP answers over the response rate limit: dropped, or sent truncated (slipped).")
		fmt.Fprintln(bw, "# TYPE pmgtm_rrl_limited_total counter")
		fmt.Fprintf(bw, "pmgtm_rrl_limited_total{action=\"dropped\"} %d\n", h.RRL.Dropped.Load())
		fmt.Fprintf(bw, "pmgtm_rrl_limited_total{action=\"slipped\"} %d\n", h.RRL.Slipped.Load())
	}
	fmt.Fprintln(bw, "# HELP pmgtm_api_auth_refused_total Admin API requests refused: without a valid token, or from an address blocked after repeated failures.")
	fmt.Fprintln(bw, "# TYPE pmgtm_api_auth_refused_total counter")
	fmt.Fprintf(bw, "pmgtm_api_auth_refused_total{reason=\"unauthorized\"} %d\n", h.refused.unauthorized.Load())
	fmt.Fprintf(bw, "pmgtm_api_auth_refused_total{reason=\"blocked\"} %d\n", h.refused.blocked.Load())
	fmt.Fprintln(bw, "# HELP pmgtm_api_requests_total Authorized admin API requests, by method and route.")
	fmt.Fprintln(bw, "# TYPE pmgtm_api_requests_total counter")
	for _, route := range h.routes {
		method, path, _ := strings.Cut(route, " ")
		fmt.Fprintf(bw, "pmgtm_api_requests_total{method=%q,route=%q} %d\n", method, path, h.served[route].Load())
	}
	fmt.Fprintln(bw, "# HELP pmgtm_api_connections_total Admin API connections accepted.")
	fmt.Fprintln(bw, "# TYPE pmgtm_api_connections_total counter")
	fmt.Fprintf(bw, "pmgtm_api_connections_total %d\n", h.connections.Load())
	fmt.Fprintln(bw, "# HELP pmgtm_build_info Agent version.")
	fmt.Fprintln(bw, "# TYPE pmgtm_build_info gauge")
	fmt.Fprintf(bw, "pmgtm_build_info{version=%q} 1\n", h.Version)
}

// writeCounters writes the non-zero counters; zone "" holds queries that
// matched no zone.
func writeCounters(bw *bufio.Writer, zoneName string, c *responder.Counters) {
	for qt := range responder.NumQTypes {
		for rc := range responder.NumRCodes {
			if n := c[qt][rc].Load(); n > 0 {
				fmt.Fprintf(bw, "pmgtm_dns_queries_total{zone=%q,qtype=%q,rcode=%q} %d\n",
					zoneName, responder.QTypeNames[qt], responder.RCodeNames[rc], n)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

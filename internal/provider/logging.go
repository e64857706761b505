package provider

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
)

// What pmgtm logs (TF_LOG=debug shows it; TF_LOG=info the apply steps):
//
//	INFO   apply step            hostname, step (push, verify, delegate, undelegate, remove), node
//	DEBUG  parent zone call      zone, operation, records, status, latency_ms, error
//	INFO   parent zone retry     attempt, delay_ms, cause
//	DEBUG  parent zone rate limit waited_ms (the client's own budget, Cloudflare and Route 53)
//	DEBUG  agent call            method, url, status, latency_ms, error
//	DEBUG  dns verification      fqdn, node, addresses, serial, status, latency_ms, error
//
// No secret is ever a field; every secret the provider holds is masked
// besides, should one appear in an error text.

// masked returns ctx with the provider's secrets masked in log output.
func (c *Clients) masked(ctx context.Context, more ...string) context.Context {
	var secrets []string
	for _, s := range append(c.secrets, more...) {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		return ctx
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
	return tflog.MaskMessageStrings(ctx, secrets...)
}

func (c *Clients) logParentCall(ctx context.Context, call parentzone.Call) {
	fields := map[string]any{"zone": call.Zone, "operation": call.Op, "status": "ok", "latency_ms": call.Took.Milliseconds()}
	if len(call.Records) > 0 {
		fields["records"] = call.Records
	}
	if call.Err != nil {
		fields["status"], fields["error"] = "error", call.Err.Error()
	}
	tflog.Debug(c.masked(ctx), "parent zone call", fields)
}

func logRateWait(ctx context.Context, waited time.Duration) {
	tflog.Debug(ctx, "parent zone rate limit", map[string]any{"waited_ms": waited.Milliseconds()})
}

func (c *Clients) logParentRetry(ctx context.Context, e parentzone.RetryEvent) {
	tflog.Info(c.masked(ctx), "parent zone retry", map[string]any{"attempt": e.Attempt, "delay_ms": e.Delay.Milliseconds(), "cause": e.Err.Error()})
}

func logStep(ctx context.Context, step, fqdn string, node any) {
	fields := map[string]any{"hostname": fqdn, "step": step}
	if node != nil {
		fields["node"] = node
	}
	tflog.Info(ctx, "apply step", fields)
}

// The serial is text: go-plugin reads log fields as JSON, and a number as
// large as a serial came out in exponent form (1.796e+09).
func (c *Clients) logVerification(ctx context.Context, fqdn, node string, addrs any, serial uint32, start time.Time, err error) {
	fields := map[string]any{"fqdn": fqdn, "node": node, "addresses": addrs, "serial": strconv.FormatUint(uint64(serial), 10), "status": "ok",
		"latency_ms": time.Since(start).Milliseconds()}
	if err != nil {
		fields["status"], fields["error"] = "error", err.Error()
	}
	tflog.Debug(c.masked(ctx), "dns verification", fields)
}

// loggedTransport logs every agent API call; the request's own token is
// masked (it is never a field: headers are not logged).
type loggedTransport struct {
	clients *Clients
	next    http.RoundTripper
}

func (t loggedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	token := ""
	if h := req.Header.Get("Authorization"); len(h) > len("Bearer ") {
		token = h[len("Bearer "):]
	}
	fields := map[string]any{"method": req.Method, "url": req.URL.Redacted(), "latency_ms": time.Since(start).Milliseconds()}
	if err != nil {
		fields["status"], fields["error"] = "error", err.Error()
	} else {
		fields["status"] = resp.StatusCode
	}
	tflog.Debug(t.clients.masked(req.Context(), token), "agent call", fields)
	return resp, err
}

// QuietWhenNotLogging turns the plugin SDK's and the provider's loggers off
// when Terraform will discard what they write. Without a level in the
// environment, terraform-plugin-go logs at TRACE and encodes every framework
// trace line as JSON for Terraform to read and drop: a fifth of the
// provider's CPU time at 1,000 hostnames. Terraform shows provider logs only
// with TF_LOG or TF_LOG_PROVIDER set (OpenTofu likewise), so with neither
// set nothing visible changes; a level the user set is never overridden.
// Call it before serving.
func QuietWhenNotLogging() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER"} {
		if os.Getenv(v) == "" {
			_ = os.Setenv(v, "OFF")
		}
	}
}

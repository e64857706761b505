package failoverbench

import (
	"strings"
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var cold []Lookup
	for i := 1; i <= 20; i++ {
		cold = append(cold, Lookup{ms(i), "live"})
	}
	cold[19].Result = "timeout"
	r := Result{Resolver: "Unbound", Event: "killed", Cold: cold, Warm: []Lookup{{ms(3), "live"}},
		Share: []Lookup{{ms(1), "live"}, {ms(1), "live"}, {ms(1), "SERVFAIL"}, {ms(1), "live"}}, Recovery: -1}
	var b strings.Builder
	Report(&b, []Result{r, {Resolver: "Unbound", Event: "withdrawn: redirect", Recovery: 1500 * time.Millisecond}}, nil,
		Options{Trials: 20, Lookups: 4, RecoveryCap: time.Minute})
	for _, want := range []string{
		"| Unbound | killed | 11 / 20 / 20 ms (1 timeout) | 3 / 3 / 3 ms | 3/4 (75.0%); 1 SERVFAIL | > 1m0s |",
		"| Unbound | withdrawn: redirect | - | - | 0/0 (0.0%) | 1.5 s |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks\n%s\ngot\n%s", want, b.String())
		}
	}
}

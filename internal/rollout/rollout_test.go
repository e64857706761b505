package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// world simulates agents and the parent, and checks after every step that
// each published nameserver serves a verified zone.
type world struct {
	t         *testing.T
	stored    map[string]bool // node holds the zone
	verified  map[string]bool // node was verified since its last push
	published []string
	log       []string
	fail      map[string]error // step string -> error
}

func newWorld(t *testing.T, serving ...string) *world {
	t.Helper()
	w := &world{t: t, stored: map[string]bool{}, verified: map[string]bool{}, fail: map[string]error{}}
	for _, n := range serving {
		w.stored[n], w.verified[n] = true, true
	}
	w.published = slices.Clone(serving)
	return w
}

func (w *world) step(s string) error {
	w.log = append(w.log, s)
	if err := w.fail[s]; err != nil {
		return err
	}
	return nil
}

func (w *world) check() {
	for _, ns := range w.published {
		if !w.stored[ns] || !w.verified[ns] {
			w.t.Fatalf("lame delegation after %q: %s published but stored=%v verified=%v", w.log[len(w.log)-1], ns, w.stored[ns], w.verified[ns])
		}
	}
}

func (w *world) Push(_ context.Context, n string) error {
	if err := w.step("push " + n); err != nil {
		return err
	}
	// A push replaces the zone in one swap: a node that served the old
	// zone serves the new one, never nothing.
	w.stored[n] = true
	w.check()
	return nil
}

func (w *world) Verify(_ context.Context, n string) error {
	if err := w.step("verify " + n); err != nil {
		return err
	}
	if !w.stored[n] {
		return errors.New("not serving")
	}
	w.verified[n] = true
	w.check()
	return nil
}

func (w *world) Publish(_ context.Context, ns []string) error {
	if err := w.step(fmt.Sprintf("publish %v", ns)); err != nil {
		return err
	}
	w.published = slices.Clone(ns)
	w.check()
	return nil
}

func (w *world) Undelegate(context.Context) error {
	if err := w.step("undelegate"); err != nil {
		return err
	}
	w.published = nil
	return nil
}

func (w *world) Remove(_ context.Context, n string) error {
	if err := w.step("remove " + n); err != nil {
		return err
	}
	w.stored[n], w.verified[n] = false, false
	w.check()
	return nil
}

func TestChangeNeverLame(t *testing.T) {
	cases := []struct {
		name     string
		from, to []string
		want     string
	}{
		{"create", nil, []string{"lb1", "lb2"}, "push lb1,push lb2,verify lb1,verify lb2,publish [lb1 lb2]"},
		{"add", []string{"lb1", "lb2"}, []string{"lb1", "lb2", "lb3"}, "push lb1,push lb2,push lb3,verify lb1,verify lb2,verify lb3,publish [lb1 lb2 lb3]"},
		{"remove", []string{"lb1", "lb2", "lb3"}, []string{"lb1", "lb3"}, "push lb1,push lb3,verify lb1,verify lb3,publish [lb1 lb3],remove lb2"},
		{"replace all", []string{"lb1"}, []string{"lb2"}, "push lb2,verify lb2,publish [lb2],remove lb1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, c.from...)
			leftovers, err := Run(context.Background(), Change(c.from, c.to), w)
			if err != nil || len(leftovers) != 0 {
				t.Fatalf("Run: %v %v", err, leftovers)
			}
			if got := strings.Join(w.log, ","); got != c.want {
				t.Errorf("steps\n got %s\nwant %s", got, c.want)
			}
			if !slices.Equal(w.published, c.to) {
				t.Errorf("published %v, want %v", w.published, c.to)
			}
		})
	}
}

func TestDestroyWithdrawsFirst(t *testing.T) {
	w := newWorld(t, "lb1", "lb2")
	if _, err := Run(context.Background(), Destroy([]string{"lb1", "lb2"}), w); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.log, ","); got != "undelegate,remove lb1,remove lb2" {
		t.Errorf("steps %s", got)
	}
}

func TestFailedVerifyPublishesNothing(t *testing.T) {
	w := newWorld(t, "lb1", "lb2")
	w.fail["verify lb3"] = errors.New("no answer")
	_, err := Run(context.Background(), Change([]string{"lb1", "lb2"}, []string{"lb1", "lb2", "lb3"}), w)
	var se *StepError
	if !errors.As(err, &se) || se.Action != Verify || se.Node != "lb3" || !strings.Contains(err.Error(), "verify lb3: no answer") {
		t.Fatalf("error %v, want the failed verify of lb3", err)
	}
	if !slices.Equal(w.published, []string{"lb1", "lb2"}) {
		t.Errorf("published %v after a failed verify", w.published)
	}
}

// TestMoveVerifiesBeforeTheAddressMoves: the node at its new place
// ("lb2 new") is pushed and verified while the delegation still reaches
// the old one; a failed verify ends the move with an error, so the caller
// never moves the address to a node that does not answer.
func TestMoveVerifiesBeforeTheAddressMoves(t *testing.T) {
	w := newWorld(t, "lb1", "lb2")
	if _, err := Run(context.Background(), Move("lb2 new"), w); err != nil {
		t.Fatal(err)
	}
	if want := []string{"push lb2 new", "verify lb2 new"}; !slices.Equal(w.log, want) {
		t.Errorf("steps %v, want %v", w.log, want)
	}
	if !w.stored["lb2 new"] || !w.verified["lb2 new"] || !slices.Equal(w.published, []string{"lb1", "lb2"}) {
		t.Errorf("after the move: stored %v verified %v published %v", w.stored, w.verified, w.published)
	}

	w = newWorld(t, "lb1", "lb2")
	w.fail["verify lb2 new"] = errors.New("no answer")
	_, err := Run(context.Background(), Move("lb2 new"), w)
	var se *StepError
	if !errors.As(err, &se) || se.Action != Verify || se.Node != "lb2 new" {
		t.Fatalf("error %v, want the failed verify of the new place", err)
	}
}

func TestFailedRemoveIsALeftover(t *testing.T) {
	w := newWorld(t, "lb1", "lb2", "lb3")
	w.fail["remove lb2"] = errors.New("connection refused")
	leftovers, err := Run(context.Background(), Change([]string{"lb1", "lb2", "lb3"}, []string{"lb1"}), w)
	if err != nil {
		t.Fatalf("a dead node being removed must not fail the change: %v", err)
	}
	if len(leftovers) != 1 || leftovers[0].Node != "lb2" {
		t.Fatalf("leftovers %v, want lb2", leftovers)
	}
	if got := w.log[len(w.log)-1]; got != "remove lb3" {
		t.Errorf("last step %q: removal must go on after a failure", got)
	}
}

func TestCancelledContextStops(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Change(nil, []string{"lb1"}), w)
	if !errors.Is(err, context.Canceled) || len(w.log) != 1 {
		t.Fatalf("err %v after steps %v; want a stop after the first step", err, w.log)
	}
}

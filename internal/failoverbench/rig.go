package failoverbench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Addresses inside the namespace.
const (
	parentIP = "127.0.0.1" // BIND: the fake root and example.test, port 53
	node1IP  = "127.0.0.11"
	node2IP  = "127.0.0.12"
	hostname = "api.example.test."
	token    = "failover-bench-token-0123456789"
)

// Rig is the parent, two nodes (a load balancer and an agent each) and the
// resolvers under test.
type Rig struct {
	Dir, Binary string
	parent      *dnsrig.Primary
	agents      [2]*dnsrig.Agent
	lbs         [2]*dnsrig.LoadBalancer
	mode        string
}

// Start brings up the parent and the nodes.
func (r *Rig) Start() (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	r.parent, err = dnsrig.StartBIND(dnsrig.PrimaryOptions{Dir: filepath.Join(r.Dir, "bind"), IP: parentIP, Port: 53, Zone: "example.test", Root: true,
		Records: []string{"lb1 A " + node1IP, "lb2 A " + node2IP, "api NS lb1", "api NS lb2"}})
	if err != nil {
		return stop, err
	}
	stops = append(stops, r.parent.Stop)
	for i, ip := range []string{node1IP, node2IP} {
		if r.lbs[i], err = dnsrig.StartLoadBalancer(ip + ":8080"); err != nil {
			return stop, err
		}
		stops = append(stops, r.lbs[i].Close)
		if r.agents[i], err = dnsrig.StartAgent(dnsrig.AgentOptions{Binary: r.Binary, Dir: filepath.Join(r.Dir, fmt.Sprintf("lb%d", i+1)), IP: ip, APIPort: 8053, Token: token}); err != nil {
			return stop, err
		}
		stops = append(stops, func() { r.agents[i].Stop() })
	}
	return stop, r.SetMode(zone.WithdrawRedirect)
}

// SetMode pushes the hostname's zone to both nodes with a withdraw mode.
func (r *Rig) SetMode(mode string) error {
	ips := []string{node1IP, node2IP}
	for i, ip := range ips {
		other := ips[1-i]
		interval, timeout, fall, rise, ttl := int64(100), int64(100), int64(2), int64(2), int64(5)
		b := zone.Body{IPv4: []string{ip}, AnswerTTL: &ttl, Nameservers: []string{"lb1.example.test", "lb2.example.test"},
			SOA:         &zone.SOABody{MName: fmt.Sprintf("lb%d.example.test", i+1)},
			HealthCheck: &zone.HealthCheckBody{Type: "http", Target: ip + ":8080", IntervalMS: &interval, TimeoutMS: &timeout, Fall: &fall, Rise: &rise},
			Withdraw:    mode,
			Peers:       []zone.Peer{{Name: fmt.Sprintf("lb%d.example.test", 2-i), IPv4: []string{other}}}}
		if _, _, err := r.client(i).PutZone(context.Background(), hostname, b); err != nil {
			return err
		}
	}
	r.mode = mode
	return nil
}

func (r *Rig) client(i int) *agentclient.Client {
	return &agentclient.Client{BaseURL: r.agents[i].APIURL, Token: token}
}

// waitWithdrawn waits (at most 10 s) for node 1's fencing state.
func (r *Rig) waitWithdrawn(want bool) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		h, err := r.client(0).Health(context.Background())
		if err == nil && len(h.Fencing) == 1 && h.Fencing[0].Withdrawn == want {
			return nil
		}
	}
	return fmt.Errorf("node 1 did not reach withdrawn=%v", want)
}

// Event is something that happens to node 1, and its undoing.
type Event struct {
	Name        string
	Apply, Undo func() error
}

// Events returns the six events of the benchmark.
func (r *Rig) Events() []Event {
	iptables := func(op string) error {
		for _, proto := range []string{"udp", "tcp"} {
			if out, err := exec.Command("iptables", op, "INPUT", "-d", node1IP+"/32", "-p", proto, "--dport", "53", "-j", "DROP").CombinedOutput(); err != nil {
				return fmt.Errorf("iptables %s: %w %s", op, err, out)
			}
		}
		return nil
	}
	withdraw := func(mode string) Event {
		return Event{Name: "withdrawn: " + mode,
			Apply: func() error {
				if r.mode != mode {
					if err := r.SetMode(mode); err != nil {
						return err
					}
				}
				r.lbs[0].Down.Store(true)
				return r.waitWithdrawn(true)
			},
			Undo: func() error { r.lbs[0].Down.Store(false); return r.waitWithdrawn(false) }}
	}
	return []Event{
		{Name: "killed", Apply: func() error { r.agents[0].Kill(); return nil },
			Undo: func() error {
				a, err := dnsrig.StartAgent(r.agents[0].Opts)
				r.agents[0] = a
				return err
			}},
		{Name: "blackholed", Apply: func() error { return iptables("-I") }, Undo: func() error { return iptables("-D") }},
		withdraw(zone.WithdrawRefused),
		withdraw(zone.WithdrawServFail),
		withdraw(zone.WithdrawSilent),
		withdraw(zone.WithdrawRedirect),
	}
}

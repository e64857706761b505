package dnsrig

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// LoadBalancer stands in for a node's load balancer, for health checks: it
// answers 200 until Down is set, then 503.
type LoadBalancer struct {
	Down atomic.Bool
	Addr string // host:port it listens on
	srv  *http.Server
}

// StartLoadBalancer listens on addr (host:0 picks a port).
func StartLoadBalancer(addr string) (*LoadBalancer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	lb := &LoadBalancer{Addr: ln.Addr().String()}
	lb.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if lb.Down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})}
	go func() { _ = lb.srv.Serve(ln) }()
	return lb, nil
}

// Close stops it.
func (lb *LoadBalancer) Close() { lb.srv.Close() }

package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/api"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/connlimit"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/dnsserver"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/fence"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/store"
)

// Main runs the agent with command-line args and returns the exit code.
func Main(args []string, version string) int {
	if len(args) > 0 && args[0] == "fingerprint" {
		return fingerprintCommand(args[1:], os.Stdout, os.Stderr)
	}
	cfg, err := parseConfig(args, os.Stderr)
	if errors.Is(err, errHelpShown) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pmgtm-agent:", err)
		return 2
	}
	if cfg.ShowVersion {
		fmt.Println("pmgtm-agent", version)
		return 0
	}
	log, err := newLogger(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pmgtm-agent:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, version, log); err != nil {
		log.Error("agent stopped", "error", err)
		return 1
	}
	return 0
}

func newLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", cfg.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", cfg.LogFormat)
}

// secrets holds what SIGHUP re-reads: the tokens and the TLS certificate.
type secrets struct {
	cfg    Config
	tokens atomic.Pointer[[]string] // nil or empty: no token (--insecure-no-token)
	cert   atomic.Pointer[tls.Certificate]
	cas    atomic.Pointer[x509.CertPool] // client CAs for mutual TLS; nil: none required
}

func (s *secrets) load() error {
	var tokens []string
	if s.cfg.TokenFile != "" {
		t, err := readTokens(s.cfg.TokenFile)
		if err != nil {
			return err
		}
		tokens = t
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		s.cert.Store(&cert)
	}
	if s.cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(s.cfg.TLSClientCA)
		if err != nil {
			return fmt.Errorf("TLS client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TLS client CA %s holds no PEM certificate", s.cfg.TLSClientCA)
		}
		s.cas.Store(pool)
	}
	s.tokens.Store(&tokens)
	return nil
}

// readTokens reads the bearer tokens from a file only its owner can read,
// so a token is never world-readable by accident: one per line, at most
// two. The second line is for a rotation without downtime: add the new
// token, SIGHUP, move the provider to it, remove the old line, SIGHUP.
func readTokens(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("token file %s has mode %04o and is readable by others; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	var tokens []string
	for _, line := range strings.Split(string(data), "\n") {
		token := strings.TrimSpace(line)
		if token == "" {
			continue
		}
		if len(token) < 16 {
			return nil, fmt.Errorf("token file %s holds a token of %d characters; use at least 16 (e.g. openssl rand -hex 32)", path, len(token))
		}
		tokens = append(tokens, token)
	}
	switch {
	case len(tokens) == 0:
		return nil, fmt.Errorf("token file %s is empty; write a token of 16 or more characters (e.g. openssl rand -hex 32)", path)
	case len(tokens) > 2:
		return nil, fmt.Errorf("token file %s holds %d tokens; at most two (the current one and, during a rotation, the next)", path, len(tokens))
	}
	return tokens, nil
}

func run(ctx context.Context, cfg Config, version string, log *slog.Logger) error {
	if cfg.selfSigned {
		made, err := ensureSelfSigned(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return err
		}
		if fp, err := fingerprintOf(cfg.TLSCert); err == nil {
			log.Info("api certificate", "self_signed", true, "made_now", made, "sha256", fp)
		}
	}
	sec := &secrets{cfg: cfg}
	if err := sec.load(); err != nil {
		return err
	}
	st, err := store.Open(cfg.DataDir, log, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()

	limiter := rrl.New(rrl.Config{Rate: cfg.RRLRate, Slip: cfg.RRLSlip, IPv4Prefix: cfg.RRLIPv4Prefix,
		IPv6Prefix: cfg.RRLIPv6Prefix, Exempt: cfg.RRLExempt}, time.Now)
	dns := &dnsserver.Server{Table: st.Table, Log: log, MaxTCPConns: cfg.MaxTCPConns, MaxTCPPerPrefix: cfg.MaxTCPPerPrefix,
		TCPIdleTimeout: cfg.TCPIdleTimeout, TCPMaxQueries: cfg.TCPMaxQueries, TCPMaxLifetime: cfg.TCPMaxLifetime,
		IPv4Prefix: cfg.RRLIPv4Prefix, IPv6Prefix: cfg.RRLIPv6Prefix, Limiter: limiter}
	var udps []*net.UDPConn
	var tcps []net.Listener
	closeListeners := func() {
		for _, c := range udps {
			c.Close()
		}
		for _, l := range tcps {
			l.Close()
		}
	}
	defer closeListeners()
	for _, addr := range cfg.DNSListen {
		u, err := dnsserver.ListenUDP(addr)
		if err != nil {
			return err
		}
		udps = append(udps, u...)
		// TCP on the port UDP got (they differ only when asked for port 0).
		t, err := net.Listen("tcp", u[0].LocalAddr().String())
		if err != nil {
			return fmt.Errorf("DNS listen tcp %s: %w", addr, err)
		}
		tcps = append(tcps, t)
		log.Info("dns listening", "udp", u[0].LocalAddr().String(), "udp_sockets", len(u), "tcp", t.Addr().String())
	}

	apiLn, err := net.Listen("tcp", cfg.APIListen)
	if err != nil {
		return fmt.Errorf("API listen %s: %w", cfg.APIListen, err)
	}
	fencing := &fence.Runner{Zones: st, Log: log, PeerPort: uint16(cfg.PeerDNSPort)}
	handler := api.New(api.Handler{Store: st, Log: log, Version: version, Started: time.Now(),
		Tokens: func() []string { return *sec.tokens.Load() }, Fencing: fencing, RRL: limiter})
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if cfg.TLSCert != "" {
		base := &tls.Config{
			MinVersion: tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				return sec.cert.Load(), nil
			},
		}
		httpSrv.TLSConfig = base.Clone()
		// Per connection, so that SIGHUP's new client CAs apply at once.
		httpSrv.TLSConfig.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			if pool := sec.cas.Load(); pool != nil {
				c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
			}
			return c, nil
		}
		apiLn = tls.NewListener(apiLn, httpSrv.TLSConfig)
	}
	// Held connections (opened, never authenticated) must not crowd out
	// the provider: caps in all and per address, the oldest idle
	// connection closed to make room. Refused clients get Connection:
	// close, so they hold nothing after their answer.
	apiConns := &connlimit.Limiter{Max: cfg.APIMaxConns, PerSource: cfg.APIMaxPerSource, IPv6Prefix: 128}
	apiLn = connlimit.Listener{Listener: apiLn, Limit: apiConns}
	httpSrv.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			handler.ConnOpened()
		case http.StateActive:
			apiConns.Busy(c)
		case http.StateIdle:
			apiConns.Idle(c)
		case http.StateClosed, http.StateHijacked:
			apiConns.Release(c)
		}
	}
	log.Info("api listening", "addr", apiLn.Addr().String(), "tls", cfg.TLSCert != "", "client_certs", cfg.TLSClientCA != "",
		"auth", len(*sec.tokens.Load()) > 0, "version", version)

	dns.Serve(udps, tcps)
	apiErr := make(chan error, 1)
	go func() { apiErr <- httpSrv.Serve(apiLn) }()
	fenceCtx, stopFencing := context.WithCancel(ctx)
	fenceDone := make(chan struct{})
	go func() { defer close(fenceDone); fencing.Run(fenceCtx) }()
	defer func() { stopFencing(); <-fenceDone }()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break loop
		case <-hup:
			// A failed reload keeps everything that was in service.
			if err := sec.load(); err != nil {
				log.Error("reload: secrets not reloaded", "error", err)
			}
			if err := st.Reload(); err != nil {
				log.Error("reload: zones not reloaded", "error", err)
			}
		case err := <-apiErr:
			runErr = fmt.Errorf("API server: %w", err)
			break loop
		}
	}
	dns.Shutdown()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx)
	return runErr
}

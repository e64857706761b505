package agent

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the agent's configuration, from flags and an optional file.
type Config struct {
	DNSListen   []string
	APIListen   string
	DataDir     string
	TokenFile   string
	TLSCert     string
	TLSKey      string
	TLSClientCA string
	// TLSSelfSigned serves an API that other hosts can reach with a
	// certificate of the agent's own (made on first start) when no
	// --tls-cert is given; selfSigned says that is what TLSCert names.
	TLSSelfSigned        bool
	selfSigned           bool
	InsecurePlaintextAPI bool
	InsecureNoToken      bool
	LogFormat            string
	LogLevel             string
	MaxTCPConns          int
	MaxTCPPerPrefix      int
	TCPIdleTimeout       time.Duration
	TCPMaxQueries        int
	TCPMaxLifetime       time.Duration
	APIMaxConns          int
	APIMaxPerSource      int
	PeerDNSPort          int
	RRLRate              int
	RRLSlip              int
	RRLIPv4Prefix        int
	RRLIPv6Prefix        int
	RRLExempt            []netip.Prefix
	ShowVersion          bool
}

var errHelpShown = errors.New("help shown")

const usageText = `pmgtm-agent - authoritative DNS for pmgtm GTM hostnames

SYNOPSIS
  pmgtm-agent [--config FILE] [flags]

DESCRIPTION
  Answers every A/AAAA query for the zones it holds with this node's own
  addresses, so that resolvers fail over between the nodes a hostname is
  delegated to. Zones are provisioned by the pmgtm Terraform provider
  through the admin API and stored in the data dir.

  The config file holds one "flag = value" per line, flag names without
  dashes; '#' starts a comment. Flags on the command line win.

SIGNALS
  SIGTERM, SIGINT  shut down gracefully
  SIGHUP           re-read the token file, TLS certificate and zone files

FLAGS
`

func parseConfig(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	var dnsListen string
	fs := flag.NewFlagSet("pmgtm-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "read flags from `FILE` (\"flag = value\" lines)")
	fs.StringVar(&dnsListen, "dns-listen", ":53", "comma-separated `addresses` to answer DNS on (UDP and TCP)")
	fs.StringVar(&cfg.APIListen, "api-listen", ":8053", "`address` of the admin API")
	fs.StringVar(&cfg.DataDir, "data-dir", "/var/lib/pmgtm-agent", "`directory` where zones are stored")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "`file` holding the API bearer token (mode 0600); a second line holds the next token during a rotation (both are accepted)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `file` for the admin API (enables HTTPS)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM CA `file`: require API clients to present a certificate it signed (mutual TLS)")
	fs.BoolVar(&cfg.TLSSelfSigned, "tls-self-signed", true, "when the API is reachable from other hosts and no --tls-cert is given, serve it with a self-signed certificate kept in the data dir (made on first start; pmgtm-agent fingerprint prints it for the node's agent_tls_fingerprint)")
	fs.BoolVar(&cfg.InsecurePlaintextAPI, "insecure-plaintext-api", false, "allow an API reachable from other hosts without TLS (the token then crosses the network in clear)")
	fs.BoolVar(&cfg.InsecureNoToken, "insecure-no-token", false, "serve a loopback-only API without a token (development only: any local process could rewrite zones)")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.IntVar(&cfg.MaxTCPConns, "max-tcp-conns", 512, "DNS TCP connections served at once; when full, the oldest idle one is closed for a new one")
	fs.IntVar(&cfg.MaxTCPPerPrefix, "max-tcp-conns-per-prefix", 64, "DNS TCP connections per client prefix (the rrl prefix lengths)")
	fs.DurationVar(&cfg.TCPIdleTimeout, "tcp-idle-timeout", 10*time.Second, "close DNS TCP connections idle this long")
	fs.IntVar(&cfg.TCPMaxQueries, "tcp-max-queries", 1000, "close a DNS TCP connection after this many queries")
	fs.DurationVar(&cfg.TCPMaxLifetime, "tcp-max-lifetime", 2*time.Minute, "close a DNS TCP connection this long after it opened")
	fs.IntVar(&cfg.APIMaxConns, "api-max-conns", 256, "admin API connections at once; when full, the oldest idle one is closed for a new one")
	fs.IntVar(&cfg.APIMaxPerSource, "api-max-conns-per-source", 16, "admin API connections per client address")
	fs.IntVar(&cfg.PeerDNSPort, "peer-dns-port", 53, "`port` where peer nodes answer DNS, for self-fencing's peer health checks (change only for tests on one host)")
	fs.IntVar(&cfg.RRLRate, "rrl-rate", 100, "response rate limit: UDP answers per second per client prefix, zone and response class (0 disables)")
	fs.IntVar(&cfg.RRLSlip, "rrl-slip", 2, "every Nth rate-limited answer is sent truncated, so real clients retry over TCP (0 never, 1 always)")
	fs.IntVar(&cfg.RRLIPv4Prefix, "rrl-ipv4-prefix", 24, "IPv4 client prefix `length` for rate limiting")
	fs.IntVar(&cfg.RRLIPv6Prefix, "rrl-ipv6-prefix", 56, "IPv6 client prefix `length` for rate limiting")
	rrlExempt := "127.0.0.0/8,::1/128"
	fs.StringVar(&rrlExempt, "rrl-exempt", rrlExempt, "comma-separated client `prefixes` never rate limited (local monitoring)")
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelpShown
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q; every setting is a --flag", fs.Arg(0))
	}
	if *configFile != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if err := applyConfigFile(fs, *configFile, set); err != nil {
			return cfg, err
		}
	}
	for _, a := range strings.Split(dnsListen, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.DNSListen = append(cfg.DNSListen, a)
		}
	}
	for _, p := range strings.Split(rrlExempt, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return cfg, fmt.Errorf("--rrl-exempt: %q is not a prefix such as 192.0.2.0/24", p)
		}
		cfg.RRLExempt = append(cfg.RRLExempt, prefix.Masked())
	}
	if cfg.RRLRate < 0 || cfg.RRLSlip < 0 {
		return cfg, fmt.Errorf("--rrl-rate and --rrl-slip must be 0 or more")
	}
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	if cfg.TLSCert == "" && cfg.TLSSelfSigned && !cfg.InsecurePlaintextAPI && !loopbackOnly(cfg.APIListen) {
		cfg.TLSCert, cfg.TLSKey, cfg.selfSigned = filepath.Join(cfg.DataDir, selfSignedCert), filepath.Join(cfg.DataDir, selfSignedKey), true
	}
	return cfg, nil
}

// applyConfigFile sets every flag the file names that the command line did
// not set.
func applyConfigFile(fs *flag.FlagSet, path string, setOnCommandLine map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		key, value = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(value), `"`)
		if !ok || key == "" {
			return fmt.Errorf("%s:%d: expected \"flag = value\", got %q", path, line, text)
		}
		if key == "config" || fs.Lookup(key) == nil {
			return fmt.Errorf("%s:%d: unknown setting %q (see pmgtm-agent --help)", path, line, key)
		}
		if setOnCommandLine[key] {
			continue
		}
		if err := fs.Set(key, value); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, line, key, err)
		}
	}
	return sc.Err()
}

func (c Config) validate() error {
	if c.ShowVersion {
		return nil
	}
	if len(c.DNSListen) == 0 {
		return fmt.Errorf("--dns-listen is empty; give at least one address such as :53")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together; give both or neither")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked over TLS")
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir is empty")
	}
	local := loopbackOnly(c.APIListen)
	switch {
	case c.TokenFile == "" && !local:
		return fmt.Errorf("--api-listen %s is reachable from other hosts, so --token-file is required "+
			"(or listen on 127.0.0.1 / [::1] only)", c.APIListen)
	case c.TokenFile == "" && !c.InsecureNoToken:
		return fmt.Errorf("--token-file is required: without a token any local process (or a request forged through a " +
			"local web service) could rewrite zones; --insecure-no-token allows a loopback API without one, for development")
	case c.TokenFile != "" && c.InsecureNoToken:
		return fmt.Errorf("--insecure-no-token and --token-file contradict each other; give one")
	case !local && c.TLSCert == "" && !c.TLSSelfSigned && !c.InsecurePlaintextAPI:
		return fmt.Errorf("--api-listen %s is reachable from other hosts: give --tls-cert and --tls-key, keep --tls-self-signed, "+
			"or accept a plaintext API (the token in clear) with --insecure-plaintext-api", c.APIListen)
	}
	return nil
}

// loopbackOnly reports whether addr can only be reached from this host.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

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
	"strings"
	"time"
)

// Config is the agent's configuration, from flags and an optional file.
type Config struct {
	DNSListen      []string
	APIListen      string
	DataDir        string
	TokenFile      string
	TLSCert        string
	TLSKey         string
	TLSClientCA    string
	LogFormat      string
	LogLevel       string
	MaxTCPConns    int
	TCPIdleTimeout time.Duration
	PeerDNSPort    int
	RRLRate        int
	RRLSlip        int
	RRLIPv4Prefix  int
	RRLIPv6Prefix  int
	RRLExempt      []netip.Prefix
	ShowVersion    bool
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
	fs.StringVar(&cfg.TokenFile, "token-file", "", "`file` holding the API bearer token (mode 0600); required unless the API listens on loopback only")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `file` for the admin API (enables HTTPS)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM CA `file`: require API clients to present a certificate it signed (mutual TLS)")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.IntVar(&cfg.MaxTCPConns, "max-tcp-conns", 512, "DNS TCP connections served at once; further ones are closed")
	fs.DurationVar(&cfg.TCPIdleTimeout, "tcp-idle-timeout", 10*time.Second, "close DNS TCP connections idle this long")
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
	return cfg, cfg.validate()
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
	if c.TokenFile == "" && !loopbackOnly(c.APIListen) {
		return fmt.Errorf("--api-listen %s is reachable from other hosts, so --token-file is required "+
			"(or listen on 127.0.0.1 / [::1] only)", c.APIListen)
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

package registry

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Release is what the registry publishes.
type Release struct {
	Dist string // goreleaser's dist directory, holding one version
	// KeyArmor is the ASCII-armoured public key that signed SHA256SUMS and
	// KeyID its long id (the last 16 hex digits of the fingerprint).
	KeyArmor, KeyID string
	// Namespace and Type name the provider (pmgtm/pmgtm); Module names the
	// module (pmgtm/gtm/pmgtm), served at ModuleVersion from the archive
	// <ModuleArchive>_<provider version>.tar.gz in Dist.
	Namespace, Type string
	Module          string
	ModuleVersion   string
	ModuleArchive   string
}

// Tamper selects a dishonest registry, for the install checks that must
// fail: a zip that differs from its published checksum, or a SHA256SUMS
// that its signature does not cover.
type Tamper int

const (
	Honest Tamper = iota
	TamperZip
	TamperSums
)

// Server is a running registry.
type Server struct {
	// CAFile holds the server's certificate for SSL_CERT_FILE: the CLI
	// trusts it and nothing else.
	CAFile  string
	rel     Release
	version string            // the provider version, from SHA256SUMS's name
	sums    map[string]string // SHA256SUMS as published: file name -> hex digest
	srv     *httptest.Server

	mu     sync.Mutex
	tamper Tamper
}

// Start serves rel until the test ends.
func Start(t testing.TB, rel Release) *Server {
	t.Helper()
	s := &Server{rel: rel}
	if err := s.readSums(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	prov := "/v1/providers/" + rel.Namespace + "/" + rel.Type + "/"
	mux.HandleFunc("GET "+prov+"versions", s.providerVersions)
	mux.HandleFunc("GET "+prov+"{version}/download/{os}/{arch}", s.providerDownload)
	mux.HandleFunc("GET /v1/modules/"+rel.Module+"/versions", s.moduleVersions)
	mux.HandleFunc("GET /v1/modules/"+rel.Module+"/{version}/download", s.moduleDownload)
	mux.HandleFunc("GET /files/{name}", s.file)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)

	s.CAFile = filepath.Join(t.TempDir(), "registry-ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// SetTamper changes what the next downloads serve.
func (s *Server) SetTamper(m Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = m
}

// CLIConfig is a CLI configuration `host` block that makes the CLI find
// the provider and module registry services of host here, without service
// discovery (so without resolving host).
func (s *Server) CLIConfig(host string) string {
	return fmt.Sprintf(`host %q {
  services = {
    "providers.v1" = "%s/v1/providers/"
    "modules.v1"   = "%s/v1/modules/"
  }
}
`, host, s.srv.URL, s.srv.URL)
}

func (s *Server) zipName(goos, arch string) string {
	return fmt.Sprintf("terraform-provider-%s_%s_%s_%s.zip", s.rel.Type, s.version, goos, arch)
}

func (s *Server) sumsName() string {
	return fmt.Sprintf("terraform-provider-%s_%s_SHA256SUMS", s.rel.Type, s.version)
}

// readSums finds the one SHA256SUMS in Dist and reads it: its name gives
// the version.
func (s *Server) readSums() error {
	prefix := "terraform-provider-" + s.rel.Type + "_"
	found, err := filepath.Glob(filepath.Join(s.rel.Dist, prefix+"*_SHA256SUMS"))
	if err != nil {
		return err
	}
	if len(found) != 1 {
		return fmt.Errorf("want one %s<version>_SHA256SUMS in %s, found %v", prefix, s.rel.Dist, found)
	}
	s.version = strings.TrimSuffix(strings.TrimPrefix(filepath.Base(found[0]), prefix), "_SHA256SUMS")
	b, err := os.ReadFile(found[0])
	if err != nil {
		return err
	}
	s.sums = map[string]string{}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 {
			s.sums[f[1]] = f[0]
		}
	}
	return nil
}

// Version is the provider version the registry serves.
func (s *Server) Version() string { return s.version }

// ZipSum is the published SHA-256 (hex) of the provider zip for goos/arch.
func (s *Server) ZipSum(goos, arch string) string { return s.sums[s.zipName(goos, arch)] }

func (s *Server) providerVersions(w http.ResponseWriter, _ *http.Request) {
	type platform struct {
		OS   string `json:"os"`
		Arch string `json:"arch"`
	}
	var platforms []platform
	prefix := fmt.Sprintf("terraform-provider-%s_%s_", s.rel.Type, s.version)
	for name := range s.sums {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || !strings.HasSuffix(rest, ".zip") {
			continue
		}
		goos, arch, _ := strings.Cut(strings.TrimSuffix(rest, ".zip"), "_")
		platforms = append(platforms, platform{goos, arch})
	}
	writeJSON(w, map[string]any{"versions": []any{map[string]any{
		"version": s.version, "protocols": []string{"6.0"}, "platforms": platforms,
	}}})
}

func (s *Server) providerDownload(w http.ResponseWriter, r *http.Request) {
	goos, arch := r.PathValue("os"), r.PathValue("arch")
	if r.PathValue("version") != s.version {
		http.NotFound(w, r)
		return
	}
	zip := s.zipName(goos, arch)
	sum, ok := s.sums[zip]
	if !ok {
		http.NotFound(w, r)
		return
	}
	base := s.srv.URL + "/files/"
	writeJSON(w, map[string]any{
		"protocols": []string{"6.0"}, "os": goos, "arch": arch, "filename": zip, "shasum": sum,
		"download_url": base + zip, "shasums_url": base + s.sumsName(), "shasums_signature_url": base + s.sumsName() + ".sig",
		"signing_keys": map[string]any{"gpg_public_keys": []any{map[string]string{
			"key_id": s.rel.KeyID, "ascii_armor": s.rel.KeyArmor,
		}}},
	})
}

func (s *Server) moduleVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"modules": []any{map[string]any{
		"versions": []any{map[string]string{"version": s.rel.ModuleVersion}},
	}}})
}

func (s *Server) moduleDownload(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("version") != s.rel.ModuleVersion {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Terraform-Get", s.srv.URL+"/files/"+s.rel.ModuleArchive+"_"+s.version+".tar.gz")
	w.WriteHeader(http.StatusNoContent)
}

// file serves a file of Dist, altered as the tamper mode says.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name != filepath.Base(name) {
		http.NotFound(w, r)
		return
	}
	b, err := os.ReadFile(filepath.Join(s.rel.Dist, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	tamper := s.tamper
	s.mu.Unlock()
	switch {
	case tamper == TamperZip && strings.HasSuffix(name, ".zip"):
		b = append(b, 0) // a trailing byte: still a zip, no longer the published one
	case tamper == TamperSums && name == s.sumsName():
		b = append(b, []byte("0000000000000000000000000000000000000000000000000000000000000000  extra.zip\n")...)
	}
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

package agent_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// smallDisk returns a data dir whose zones/ directory is a tmpfs of the
// given size (root only). Only zones/ is mounted, so it can be made
// read-only while the agent holds its lock file open.
func smallDisk(t *testing.T, size string) (dataDir, zonesDir string) {
	t.Helper()
	dataDir = t.TempDir()
	dir := filepath.Join(dataDir, "zones")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (%v %s); run as root", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dataDir, dir
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v %s", mode, err, out)
	}
}

// TestDiskFullAndReadOnly: with the data dir full, then read-only, writes
// fail with a clear error, the zones in service keep answering, health
// says what is wrong, and nothing acknowledged is lost across a kill -9.
func TestDiskFullAndReadOnly(t *testing.T) {
	dataDir, dir := smallDisk(t, "512k")
	a := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	ctx := context.Background()
	c := client(a)
	served := func(ag *agentproc.Agent, names ...string) {
		t.Helper()
		for _, n := range names {
			if r := query(t, "udp", ag.DNSAddr, n+".example.test.", dns.TypeA); len(r.Answer) != 1 {
				t.Fatalf("%s not served: %v", n, r)
			}
		}
	}
	if _, _, err := c.PutZone(ctx, "one.example.test", body("127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=4k").Run()
	_, _, err := c.PutZone(ctx, "two.example.test", body("127.0.0.12"))
	var apiErr *agentclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 507 || !strings.Contains(apiErr.Message, "no space left") || !strings.Contains(apiErr.Message, "unchanged") {
		t.Fatalf("PUT on a full disk: %v", err)
	}
	served(a, "one")
	if r := query(t, "udp", a.DNSAddr, "two.example.test.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("a zone that was not stored is served: %v", r)
	}
	h, _ := c.Health(ctx)
	if h.Status != "degraded" || len(h.Problems) != 1 || !strings.Contains(h.Problems[0].Error, "no space left") {
		t.Fatalf("health on a full disk: %+v", h)
	}
	if !strings.Contains(a.Logs(), "zone not stored") {
		t.Fatalf("the failed write is not logged:\n%s", a.Logs())
	}
	// Space again: the write goes through and health recovers.
	_ = os.Remove(filler)
	if _, _, err := c.PutZone(ctx, "two.example.test", body("127.0.0.12")); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Health(ctx); h.Status != "ok" {
		t.Fatalf("health after the disk recovered: %+v", h)
	}

	// Read-only.
	remount(t, dir, "ro")
	_, _, err = c.PutZone(ctx, "three.example.test", body("127.0.0.13"))
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || !strings.Contains(apiErr.Message, "read-only file system") {
		t.Fatalf("PUT on a read-only disk: %v", err)
	}
	if err := c.DeleteZone(ctx, "one.example.test"); err == nil {
		t.Fatal("DELETE on a read-only disk reported success")
	}
	served(a, "one", "two")
	if h, _ := c.Health(ctx); h.Status != "degraded" || !strings.Contains(h.Problems[0].Error, "read-only") {
		t.Fatalf("health on a read-only disk: %+v", h)
	}
	remount(t, dir, "rw")
	if _, _, err := c.PutZone(ctx, "three.example.test", body("127.0.0.13")); err != nil {
		t.Fatal(err)
	}

	// Nothing acknowledged is lost.
	a.Kill()
	b := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	served(b, "one", "two", "three")
}

// TestTruncatedFileInServiceSurvivesReload: a zone file damaged on disk
// while its zone is served is reported on SIGHUP, and the zone keeps its
// last good version.
func TestTruncatedFileInServiceSurvivesReload(t *testing.T) {
	dataDir := t.TempDir()
	a := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	ctx := context.Background()
	if _, _, err := client(a).PutZone(ctx, "kept.example.test", body("127.0.0.21")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, "zones", "kept.example.test.json")
	if err := os.Truncate(path, 17); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // a SIGHUP storm
		if err := a.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := client(a).Health(ctx)
		if err == nil && h.Status == "degraded" && len(h.Problems) == 1 && h.Problems[0].File == "kept.example.test.json" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the damaged file is not reported: %+v %v", h, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := query(t, "udp", a.DNSAddr, "kept.example.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("zone dropped after its file was damaged: %v", r)
	}
	if !a.Alive() {
		t.Fatal("agent died")
	}
}

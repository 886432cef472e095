package emit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
)

// acmeReplicaEnv names, in the process TestDataPlaneACMETwoReplicas starts, the file
// holding the config that process runs.
const acmeReplicaEnv = "EMIT_TEST_ACME_REPLICA"

// acmeReplica is what the second process runs.
type acmeReplica struct {
	Result      emit.Result
	AdminListen string
}

// TestDataPlaneACMETwoReplicas runs two Caddy processes, as two pods of a Gateway: the
// same listener ports (SO_REUSEPORT, so the CA's validation requests reach either, as
// a Service spreads them), their own admin sockets, and one file_system storage. The
// CA receives ONE order, and both serve the same certificate: the one process keeps
// serving it after the other stops.
func TestDataPlaneACMETwoReplicas(t *testing.T) {
	if f := os.Getenv(acmeReplicaEnv); f != "" {
		runACMEReplica(t, f)
		return
	}
	p := newACMEPlane(t, acmeSetup{challenges: []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}})
	dir := t.TempDir()
	second := *p
	second.opts.AdminListen = "unix/" + filepath.Join(dir, "admin.sock")
	second.opts.ReadinessPort, second.opts.MetricsPort = int32(testports.Port(t)), int32(testports.Port(t))
	second.opts.InvalidBackendSocket = filepath.Join(dir, "invalid.sock")
	res := second.emit([]string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}, "a.tenants.example.com")
	b, err := json.Marshal(acmeReplica{Result: res, AdminListen: second.opts.AdminListen})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "replica.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stop := startReplica(t, file, int(second.opts.ReadinessPort))
	p.load()

	first, took := p.waitCertificate("app.example.com", 60*time.Second)
	t.Logf("first certificate with two replicas after %s", took.Round(time.Millisecond))
	// Handshakes reach either replica; the one that did not order may still be waiting
	// for the storage's lock before it loads the certificate (waitCertificate retries).
	serials := map[string]bool{}
	for range 20 {
		leaf, _ := p.waitCertificate("app.example.com", 15*time.Second)
		serials[leaf.SerialNumber.String()] = true
	}
	_ = caddy.Stop()
	leaf, _ := p.waitCertificate("app.example.com", 15*time.Second) // the second replica alone
	if leaf.SerialNumber.Cmp(first.SerialNumber) != 0 || len(serials) != 1 {
		t.Errorf("the replicas serve %d serials (%v) and the second alone %s; want one: %s",
			len(serials), serials, leaf.SerialNumber, first.SerialNumber)
	}
	if p.ca.Orders() != 1 {
		t.Errorf("%d orders for two replicas, want 1", p.ca.Orders())
	}
	stop()
}

// startReplica starts this test binary as the second replica running the config of
// file, waits until its readiness port answers and returns how to stop it.
func startReplica(t *testing.T, file string, readiness int) func() {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDataPlaneACMETwoReplicas$", "-test.count=1")
	cmd.Env = append(os.Environ(), acmeReplicaEnv+"="+file)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("second replica: %v\n%s", err, out.String())
		}
	}
	t.Cleanup(stop)
	url := fmt.Sprintf("http://127.0.0.1:%d/ready", readiness)
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
	}
	t.Fatalf("the second replica did not get ready:\n%s", out.String())
	return stop
}

// runACMEReplica is the second replica: it runs the config of file until its stdin
// closes.
func runACMEReplica(t *testing.T, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r acmeReplica
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	loadResult(t, r.Result, r.AdminListen, true)
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = caddy.Stop()
}

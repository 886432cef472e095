package pusher_test

// The pusher against the real data plane: the real admin-proxy in front of the real Caddy
// (in process), on loopback. Caddy is a process-wide singleton, so everything that touches
// it lives in this one sequential test.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-gateway/operator/internal/adminproxy/proxytest"
	_ "github.com/caddy-gateway/operator/internal/caddymod"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/testports"
)

func TestPushToRealCaddy(t *testing.T) {
	dir := shortTempDir(t)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	sock := filepath.Join(dir, "admin.sock")

	// Caddy as the pod starts it: nothing but the admin socket.
	bootstrap, _ := json.Marshal(map[string]any{"admin": map[string]any{
		"listen": "unix/" + sock, "config": map[string]any{"persist": false},
	}})
	if err := caddy.Load(bootstrap, true); err != nil {
		t.Fatalf("bootstrap Caddy: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("caddy.Stop: %v", err)
		}
	})
	p := newPKI(t)
	addr := proxytest.Start(t, p.server, p.ca, filepath.Join(dir, "tls"), sock)

	readiness := testports.Port(t)
	good, err := emit.Emit(&ir.Gateway{Namespace: "infra", Name: "web"}, emit.Options{
		ListenHost: "127.0.0.1", ReadinessPort: int32(readiness), AdminListen: "unix/" + sock,
		MetricsPort: int32(testports.Port(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{
		// Every rejected push below is sent: no backoff to speak of.
		Timeout: 30 * time.Second, InitialBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
	}})
	req := pusher.Request{
		Gateway: testGateway,
		Targets: []pusher.Target{{Key: "uid-0/0", Name: "pod-0", IP: "127.0.0.1"}},
		Config:  pusher.Config{JSON: good.JSON, Hash: good.Hash, ID: emit.ConfigID(good.Hash)},
		TLS:     p.clientTLS(t, p.serverName), Port: int32(addr.Port),
	}
	readyURL := fmt.Sprintf("http://127.0.0.1:%d/ready", readiness)

	t.Run("an emitted config is pushed and serves", func(t *testing.T) {
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		assertReady(t, readyURL)
	})

	t.Run("a config Caddy rejects keeps the running one", func(t *testing.T) {
		bad := []byte(`{"admin":{"listen":"unix/` + sock + `","config":{"persist":false}},"apps":{"no_such_app":{}}}`)
		sum := sha256.Sum256(bad)
		rejected := req
		rejected.Config = pusher.Config{JSON: bad, Hash: hex.EncodeToString(sum[:])}
		// After a failed load Caddy restarts its admin endpoint; a push in that window of a
		// few milliseconds meets the admin-proxy's 502. Every push is still sent and fails.
		reject := func() string {
			t.Helper()
			for range 50 {
				res := push.Push(context.Background(), rejected)
				if res.Programmed != 0 || res.Pushed != 1 || len(res.Errors) != 1 {
					t.Fatalf("got %+v", res)
				}
				if msg := res.Errors[0]; !strings.Contains(msg, "(502): caddy admin unreachable") {
					return msg
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatal("Caddy's admin endpoint stayed unreachable for a second")
			return ""
		}
		for attempt := range 2 { // a rejected config is not remembered: the retry is sent too
			msg := reject()
			if !strings.HasPrefix(msg, "pod pod-0: caddy rejected the configuration (400): ") || !strings.Contains(msg, "unknown module: no_such_app") {
				t.Fatalf("attempt %d: error %q does not carry Caddy's text", attempt, msg)
			}
		}
		assertReady(t, readyURL)
	})

	t.Run("the good config is still acknowledged", func(t *testing.T) {
		// Caddy kept running the good config and the rejected push did not replace its
		// acknowledgement, so going back to it sends nothing.
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 0 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		assertReady(t, readyURL)
	})

	tuning := pusher.Tuning{Timeout: 30 * time.Second}
	t.Run("a pusher that does not know the pod asks Caddy and pushes nothing it runs", func(t *testing.T) {
		// An operator that restarted: no memory of the pod, which runs the config.
		start := time.Now()
		res := pusher.New(pusher.Options{Tuning: tuning}).Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 0 || res.Verified != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		t.Logf("verified by GET /id/ in %s (one TLS handshake and a %d-byte config unsent)", time.Since(start), len(good.JSON))
	})

	t.Run("a pusher that does not know the pod pushes when Caddy runs another config", func(t *testing.T) {
		other, err := emit.Emit(&ir.Gateway{Namespace: "infra", Name: "web"}, emit.Options{
			ListenHost: "127.0.0.1", ReadinessPort: int32(readiness), AdminListen: "unix/" + sock,
			MetricsPort: int32(testports.Port(t)), GracePeriod: "3s",
		})
		if err != nil {
			t.Fatal(err)
		}
		next := req
		next.Config = pusher.Config{JSON: other.JSON, Hash: other.Hash, ID: emit.ConfigID(other.Hash)}
		start := time.Now()
		res := pusher.New(pusher.Options{Tuning: tuning}).Push(context.Background(), next)
		if res.Programmed != 1 || res.Pushed != 1 || res.Verified != 0 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		t.Logf("asked and pushed in %s", time.Since(start))
		assertReady(t, readyURL)
		// Caddy runs it now: yet another fresh pusher finds it, and no longer finds the
		// config it replaced.
		if res := pusher.New(pusher.Options{Tuning: tuning}).Push(context.Background(), next); res.Verified != 1 || res.Pushed != 0 {
			t.Fatalf("after the push: got %+v", res)
		}
		back := pusher.New(pusher.Options{Tuning: tuning}).Push(context.Background(), req)
		if back.Verified != 0 || back.Pushed != 1 || back.Programmed != 1 {
			t.Fatalf("going back to the first config: got %+v", back)
		}
	})

	testRouteTables(t, push, req, sock)
}

func assertReady(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("readiness server: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "ready" {
		t.Fatalf("readiness server answered %d %q", resp.StatusCode, b)
	}
}

// shortTempDir returns a directory whose paths fit a unix socket name (108 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

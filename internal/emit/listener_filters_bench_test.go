package emit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// BenchmarkListenerFilterLatency measures one request through a real Caddy on
// 127.0.0.1 (sequential, kept-alive connections) on a listener without filters and on
// one whose ExternalAuth filter asks a local authorization service first.
func BenchmarkListenerFilterLatency(b *testing.B) {
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-User", "alice")
	}))
	b.Cleanup(auth.Close)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(backend.Close)
	port, dir := testports.Port(b), b.TempDir()
	yamlText := strings.ReplaceAll(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: open, port: PORT, protocol: HTTP, hostname: open.example.com}
  - name: guarded
    port: PORT
    protocol: HTTP
    hostname: guarded.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: authz, port: 9000}
          http: {allowedResponseHeaders: [X-User]}
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: default}
spec: {clusterIP: 10.0.0.50, ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {clusterIP: 10.0.0.1, ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: app, port: 8080}]
`, "PORT", fmt.Sprint(port))
	in, err := fixture.Load([]byte(yamlText))
	if err != nil {
		b.Fatal(err)
	}
	g := translator.Translate(in).IR
	redirectBackends(g, map[string]string{"10.0.0.50:9000": auth.Listener.Addr().String(), "10.0.0.1:8080": backend.Listener.Addr().String()})
	admin := "unix/" + filepath.Join(dir, "admin.sock")
	res, err := emit.Emit(g, emit.Options{AdminListen: admin, ListenHost: "127.0.0.1",
		ReadinessPort: int32(testports.Port(b)), MetricsPort: int32(testports.Port(b)), InvalidBackendSocket: filepath.Join(dir, "invalid.sock")})
	if err != nil {
		b.Fatal(err)
	}
	loadResult(b, res, admin, true)
	b.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, host := range []string{"open.example.com", "guarded.example.com"} {
		b.Run(strings.Split(host, ".")[0], func(b *testing.B) {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			req.Host = host
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

package emit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// BenchmarkBackendTLSLatency measures the latency of one request through a real Caddy
// on 127.0.0.1 (sequential, the client keeping its connection to Caddy) to a cleartext
// backend, a TLS backend verified by server name, and one verified by subject alt names
// (our own verification). "reused" backends keep their connections alive, so Caddy's
// pool amortises the handshake; "new" backends close every connection, so each request
// pays a TCP connect and, with TLS, a full handshake and verification.
func BenchmarkBackendTLSLatency(b *testing.B) {
	ca := newTestCA(b, "backend-ca")
	cert := ca.serverCert(b, []string{"backend.internal"})
	tlsOf := map[string]*ir.BackendTLS{
		"plain": nil,
		"tls":   {ServerName: "backend.internal", TrustedCAs: []string{ca.pem}},
		"sans":  {ServerName: "sni.example.com", TrustedCAs: []string{ca.pem}, SubjectAltNames: []ir.SubjectAltName{{Hostname: "backend.internal"}}},
	}
	var names []string
	backends, tlsByAddr := map[string]string{}, map[string]*ir.BackendTLS{}
	for _, conn := range []string{"reused", "new"} {
		for kind, t := range tlsOf {
			name := kind + "-" + conn
			var s *httptest.Server
			if t == nil {
				s = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_ = json.NewEncoder(w).Encode(echo{Backend: name})
				}))
				s.Start()
				b.Cleanup(s.Close)
			} else {
				s = tlsEchoBackend(b, name, cert, nil, nil)
			}
			s.Config.SetKeepAlivesEnabled(conn == "reused")
			names = append(names, name)
			backends[svcAddr(name, 8443)] = s.Listener.Addr().String()
			tlsByAddr[s.Listener.Addr().String()] = t
		}
	}
	port, dir := testports.Port(b), b.TempDir()
	in, err := fixture.Load([]byte(strings.ReplaceAll(backendTLSFixture(names...), "PORT", fmt.Sprint(port))))
	if err != nil {
		b.Fatal(err)
	}
	g := translator.Translate(in).IR
	redirectBackends(g, backends)
	setBackendTLS(g, tlsByAddr)
	res, err := emit.Emit(g, emit.Options{AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
		ReadinessPort: int32(testports.Port(b)), MetricsPort: int32(testports.Port(b)), InvalidBackendSocket: filepath.Join(dir, "invalid.sock")})
	if err != nil {
		b.Fatal(err)
	}
	loadResult(b, res, "unix/"+filepath.Join(dir, "admin.sock"), true)
	b.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, conn := range []string{"reused", "new"} {
		for _, kind := range []string{"plain", "tls", "sans"} {
			name := kind + "-" + conn
			b.Run(name, func(b *testing.B) {
				url := fmt.Sprintf("http://127.0.0.1:%d/%s", port, name)
				for b.Loop() {
					resp, err := client.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("%s: status %d", name, resp.StatusCode)
					}
				}
			})
		}
	}
}

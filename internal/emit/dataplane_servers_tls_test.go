package emit_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/caddy-gateway/operator/internal/emit"
)

// httpsBackends points the backend of tlsFixture and httpFixture at a local echo server.
func httpsBackends(t *testing.T) map[string]string {
	return map[string]string{"a.default.svc.cluster.local:8080": echoBackend(t, "a").Listener.Addr().String()}
}

// handshake dials the HTTPS data plane with tune applied to the client configuration
// and returns the negotiated state.
func handshake(d *dataPlane, tune func(*tls.Config)) (tls.ConnectionState, error) {
	cfg := fixtureTLS("foo.example.com")
	tune(cfg)
	c, err := tls.Dial("tcp", strings.TrimPrefix(d.base, "http://"), cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

func maxTLS12(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }

// TestDataPlaneTLSMinVersion: a TLS 1.2 client is refused under minimum 1.3 and served
// under minimum 1.2 and by default.
func TestDataPlaneTLSMinVersion(t *testing.T) {
	for _, tc := range []struct {
		min      string
		accepted bool
	}{{"", true}, {"1.2", true}, {"1.3", false}} {
		t.Run("min "+tc.min, func(t *testing.T) {
			d := startDataPlane(t, tlsFixture, httpsBackends(t), emit.ServerOptions{TLSMinVersion: tc.min})
			st, err := handshake(d, maxTLS12)
			if accepted := err == nil; accepted != tc.accepted {
				t.Fatalf("TLS 1.2 client: handshake error %v, want accepted=%v", err, tc.accepted)
			}
			if err == nil && st.Version != tls.VersionTLS12 {
				t.Errorf("negotiated version %x, want TLS 1.2", st.Version)
			}
			if st, err := handshake(d, func(*tls.Config) {}); err != nil || st.Version != tls.VersionTLS13 {
				t.Errorf("TLS 1.3 client: version %x, error %v; want TLS 1.3", st.Version, err)
			}
		})
	}
}

// TestDataPlaneCipherSuites: with the TLS 1.2 suites restricted, a client offering
// only another suite is refused and one offering the allowed suite gets it.
func TestDataPlaneCipherSuites(t *testing.T) {
	only := func(id uint16) func(*tls.Config) {
		return func(c *tls.Config) { maxTLS12(c); c.CipherSuites = []uint16{id} }
	}
	aes128, aes256 := tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	open := startDataPlane(t, tlsFixture, httpsBackends(t))
	if _, err := handshake(open, only(aes128)); err != nil {
		t.Fatalf("default suites: AES-128-GCM client refused: %v", err)
	}
	d := startDataPlane(t, tlsFixture, httpsBackends(t), emit.ServerOptions{CipherSuites: []string{tls.CipherSuiteName(aes256)}})
	if _, err := handshake(d, only(aes128)); err == nil {
		t.Errorf("restricted to AES-256-GCM: AES-128-GCM client accepted")
	}
	st, err := handshake(d, only(aes256))
	if err != nil || st.CipherSuite != aes256 {
		t.Errorf("restricted to AES-256-GCM: suite %s, error %v", tls.CipherSuiteName(st.CipherSuite), err)
	}
}

// httpFixture is one cleartext listener routing to backend a.
const httpFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: PORT, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
`

// TestDataPlaneProtocols: an h1-only HTTPS server answers an h2 client's ALPN with
// HTTP/1.1; cleartext HTTP/2 (prior knowledge, as gRPC clients speak it) is served
// with h2c and refused by an h1-only server.
func TestDataPlaneProtocols(t *testing.T) {
	h2 := func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} }
	for _, tc := range []struct {
		protocols []string
		alpn      string
	}{{nil, "h2"}, {[]string{"h1"}, "http/1.1"}, {[]string{"h1", "h2"}, "h2"}} {
		d := startDataPlane(t, tlsFixture, httpsBackends(t), emit.ServerOptions{Protocols: tc.protocols})
		if st, err := handshake(d, h2); err != nil || st.NegotiatedProtocol != tc.alpn {
			t.Errorf("protocols %v: ALPN %q, error %v; want %q", tc.protocols, st.NegotiatedProtocol, err, tc.alpn)
		}
	}
	for _, tc := range []struct {
		protocols []string
		served    bool
	}{{nil, true}, {[]string{"h1", "h2c"}, true}, {[]string{"h1"}, false}, {[]string{"h1", "h2"}, true}} {
		t.Run(fmt.Sprintf("cleartext %v", tc.protocols), func(t *testing.T) {
			d := startDataPlane(t, httpFixture, httpsBackends(t), emit.ServerOptions{Protocols: tc.protocols})
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			c := &http.Client{Timeout: 3 * time.Second, Transport: tr}
			resp, err := c.Get(d.base + "/")
			if served := err == nil && resp.StatusCode == 200 && resp.ProtoMajor == 2; served != tc.served {
				t.Errorf("h2c prior-knowledge request: response %v, error %v; want served=%v", resp, err, tc.served)
			}
			if err == nil {
				resp.Body.Close()
			}
		})
	}
}

// TestDataPlaneHTTP3: h3 opens a QUIC listener on the HTTPS port; a list without it
// serves no HTTP/3. Caddy's default list has h3.
func TestDataPlaneHTTP3(t *testing.T) {
	for _, tc := range []struct {
		protocols []string
		served    bool
	}{{nil, true}, {[]string{"h1", "h2", "h3"}, true}, {[]string{"h1", "h2"}, false}} {
		t.Run(fmt.Sprintf("%v", tc.protocols), func(t *testing.T) {
			d := startDataPlane(t, tlsFixture, httpsBackends(t), emit.ServerOptions{Protocols: tc.protocols})
			tr := &http3.Transport{TLSClientConfig: fixtureTLS("foo.example.com")}
			defer tr.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", strings.Replace(d.base, "http://", "https://", 1)+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "foo.example.com"
			resp, err := tr.RoundTrip(req)
			if served := err == nil && resp.StatusCode == 200 && resp.ProtoMajor == 3; served != tc.served {
				t.Errorf("HTTP/3 request: response %v, error %v; want served=%v", resp, err, tc.served)
			}
			if err == nil {
				resp.Body.Close()
			}
		})
	}
}

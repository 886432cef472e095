package emit_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

const tlsFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: https, port: PORT, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: "@testcert", tls.key: "@testkey"}
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

// TestDataPlaneHTTPS terminates TLS with the listener's certificate chosen by SNI.
func TestDataPlaneHTTPS(t *testing.T) {
	a := echoBackend(t, "a")
	d := startDataPlane(t, tlsFixture, map[string]string{"a.default.svc.cluster.local:8080": a.Listener.Addr().String()})
	d.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: fixtureTLS("foo.example.com")}}
	d.base = strings.Replace(d.base, "http://", "https://", 1)
	e := d.expect("GET", "/x", map[string]string{"Host": "foo.example.com"}, 200)
	if e.Backend != "a" {
		t.Errorf("backend %q, want a", e.Backend)
	}
}

// fixtureTLS is a client TLS configuration that trusts the fixtures' listener certificate
// (fixture.CertPEM) and sends serverName as SNI.
func fixtureTLS(serverName string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(fixture.CertPEM))
	return &tls.Config{RootCAs: pool, ServerName: serverName}
}

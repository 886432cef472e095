package emit_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/acmetest"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// acmeFixture has a plain HTTP listener, and on the HTTPS port an exact listener
// (app), an on-demand wildcard (tenants) and one with a Secret's certificate (static).
// The test takes the certificates off app and tenants and gives them automatic ones in
// the IR. The route on the HTTP port sends every path, /.well-known/acme-challenge/
// included, to a backend: HTTP-01 must be answered before routing.
const acmeFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: HTTPPORT, protocol: HTTP}
  - {name: app, port: TLSPORT, protocol: HTTPS, hostname: app.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: static, port: TLSPORT, protocol: HTTPS, hostname: foo.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: tenants, port: TLSPORT, protocol: HTTPS, hostname: "*.tenants.example.com", tls: {certificateRefs: [{name: cert}]}}
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
  hostnames: [app.example.com, foo.example.com, ROUTEHOSTS]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
`

// acmePlane is an in-process Caddy running acmeFixture with automatic certificates
// from an in-process ACME CA.
type acmePlane struct {
	t                 *testing.T
	ca                *acmetest.CA
	httpPort, tlsPort int
	opts              emit.Options
	backends          map[string]string
	last              emit.Result
}

// acmeSetup says how to run an acmePlane.
type acmeSetup struct {
	// challenges are the ACME challenge types enabled.
	challenges []string
	// lifetime of the certificates issued; the CA's default when 0.
	lifetime time.Duration
	// down starts the CA unreachable.
	down bool
	// renewInterval is the renewal check interval; Caddy's default when empty.
	renewInterval string
}

func startACMEPlane(t *testing.T, s acmeSetup) *acmePlane {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	p := &acmePlane{t: t, httpPort: testports.Port(t), tlsPort: testports.Port(t)}
	p.ca = acmetest.New(t, acmetest.Options{HTTPPort: p.httpPort, TLSPort: p.tlsPort, Lifetime: s.lifetime})
	p.ca.SetDown(s.down)
	dir := t.TempDir()
	storage, _ := json.Marshal(map[string]string{"module": "file_system", "root": filepath.Join(dir, "storage")})
	p.opts = emit.Options{
		AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
		ReadinessPort: int32(testports.Port(t)), MetricsPort: int32(testports.Port(t)),
		InvalidBackendSocket: filepath.Join(dir, "invalid.sock"),
		ACMEStorage:          storage, DisableCertificateStates: true,
		HTTPChallengePort: int32(p.httpPort), TLSALPNChallengePort: int32(p.tlsPort),
		RenewInterval: s.renewInterval, LogLevel: "ERROR",
	}
	p.backends = map[string]string{"a.default.svc.cluster.local:8080": echoBackend(t, "a").Listener.Addr().String()}
	p.last = p.emit(s.challenges, "a.tenants.example.com")
	loadResult(t, p.last, p.opts.AdminListen, true)
	t.Cleanup(func() { _ = caddy.Stop() })
	return p
}

// emit emits the fixture with the route's extra hostnames, app and tenants presenting
// automatic certificates (app's obtained ahead, tenants' on demand) and static its
// Secret's.
func (p *acmePlane) emit(challenges []string, routeHosts ...string) emit.Result {
	p.t.Helper()
	y := strings.NewReplacer("HTTPPORT", fmt.Sprint(p.httpPort), "TLSPORT", fmt.Sprint(p.tlsPort),
		"ROUTEHOSTS", strings.Join(routeHosts, ", ")).Replace(acmeFixture)
	in, err := fixture.Load([]byte(y))
	if err != nil {
		p.t.Fatal(err)
	}
	g := translator.Translate(in).IR
	redirectBackends(g, p.backends)
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			l := &g.HTTP[i].Listeners[j]
			switch l.Name {
			case "app":
				l.Certificates, l.Automatic = nil, &ir.AutomaticCertificates{Names: []string{l.Hostname}}
			case "tenants":
				l.Certificates, l.Automatic = nil, &ir.AutomaticCertificates{OnDemand: true}
			}
		}
	}
	g.ACME = &ir.ACME{Directory: p.ca.Directory, Email: "ops@example.com", TrustedRootsPEM: p.ca.DirectoryRootPEM, Challenges: challenges}
	res, err := emit.Emit(g, p.opts)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// handshake completes a TLS handshake with serverName against the HTTPS port, trusting
// roots, and returns the leaf the server presented.
func (p *acmePlane) handshake(serverName string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: serverName, RootCAs: roots}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", p.tlsPort))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// waitCertificate handshakes with serverName until the server presents a certificate
// chaining to the CA's root (at most within), and returns it with the time it took.
func (p *acmePlane) waitCertificate(serverName string, within time.Duration) (*x509.Certificate, time.Duration) {
	p.t.Helper()
	start := time.Now()
	var lastErr error
	for time.Since(start) < within {
		leaf, err := p.handshake(serverName, p.ca.Roots())
		if err == nil {
			return leaf, time.Since(start)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("no certificate of the CA for %s within %s: %v (orders %d, challenges %d)",
		serverName, within, lastErr, p.ca.Orders(), p.ca.Challenges())
	return nil, 0
}

// get requests path with host over HTTPS (SNI host) and expects the echo backend.
func (p *acmePlane) get(host string) {
	p.t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: host, RootCAs: p.ca.Roots()}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/x", p.tlsPort), nil)
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatalf("GET https://%s/x: %v", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Errorf("GET https://%s/x: status %d, want 200", host, resp.StatusCode)
	}
}

// checkLeaf checks the leaf names host and chains to the CA's root.
func (p *acmePlane) checkLeaf(leaf *x509.Certificate, host string) {
	p.t.Helper()
	if !slices.Contains(leaf.DNSNames, host) {
		p.t.Errorf("certificate names %v, want %s", leaf.DNSNames, host)
	}
	if leaf.NotAfter.Before(time.Now()) {
		p.t.Errorf("certificate expired at %s", leaf.NotAfter)
	}
}

// TestDataPlaneACMEHTTP01 obtains app's certificate with HTTP-01 only: Caddy answers
// the challenge on the plain HTTP port before its routes (which send every path to a
// backend), and then serves the certificate, which chains to the CA's root and names
// the host, with no push in between.
func TestDataPlaneACMEHTTP01(t *testing.T) {
	p := startACMEPlane(t, acmeSetup{challenges: []string{ir.ACMEChallengeHTTP01}})
	leaf, took := p.waitCertificate("app.example.com", 60*time.Second)
	p.checkLeaf(leaf, "app.example.com")
	p.get("app.example.com")
	if p.ca.Orders() != 1 || p.ca.Challenges() != 1 {
		t.Errorf("orders %d, challenges %d; want 1 each", p.ca.Orders(), p.ca.Challenges())
	}
	t.Logf("first certificate (HTTP-01) after %s", took.Round(time.Millisecond))
}

// TestDataPlaneACMETLSALPN01 obtains app's certificate with TLS-ALPN-01 only: Caddy
// answers the challenge in the handshake on the HTTPS port.
func TestDataPlaneACMETLSALPN01(t *testing.T) {
	p := startACMEPlane(t, acmeSetup{challenges: []string{ir.ACMEChallengeTLSALPN01}})
	leaf, took := p.waitCertificate("app.example.com", 60*time.Second)
	p.checkLeaf(leaf, "app.example.com")
	p.get("app.example.com")
	t.Logf("first certificate (TLS-ALPN-01) after %s", took.Round(time.Millisecond))
}

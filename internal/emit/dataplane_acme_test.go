package emit_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/acmestore"
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
  hostnames: ["app.example.com", "foo.example.com", ROUTEHOSTS]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
`

// acmePlane is an in-process Caddy running acmeFixture with automatic certificates
// from an in-process ACME CA.
type acmePlane struct {
	t                 *testing.T
	storageRoot       string
	ca                *acmetest.CA
	httpPort, tlsPort int
	opts              emit.Options
	eab               *ir.ACMEExternalAccount
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
	// caAccounts are the EAB keys the CA knows and requires (acmetest.Options).
	caAccounts map[string]string
	// eab is the Gateway's External Account Binding; none when nil.
	eab *ir.ACMEExternalAccount
	// blocked are the domains the CA refuses (acmetest.Options).
	blocked []string
}

func startACMEPlane(t *testing.T, s acmeSetup) *acmePlane {
	p := newACMEPlane(t, s)
	p.load()
	return p
}

// newACMEPlane starts the CA and emits the config of an acmePlane, which load runs.
func newACMEPlane(t *testing.T, s acmeSetup) *acmePlane {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	p := &acmePlane{t: t, httpPort: testports.Port(t), tlsPort: testports.Port(t), eab: s.eab}
	p.ca = acmetest.New(t, acmetest.Options{HTTPPort: p.httpPort, TLSPort: p.tlsPort, Lifetime: s.lifetime,
		ExternalAccounts: s.caAccounts, Blocked: s.blocked})
	p.ca.SetDown(s.down)
	dir := t.TempDir()
	p.storageRoot = filepath.Join(dir, "storage")
	storage, _ := json.Marshal(map[string]string{"module": "file_system", "root": p.storageRoot})
	p.opts = emit.Options{
		AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
		ReadinessPort: int32(testports.Port(t)), MetricsPort: int32(testports.Port(t)),
		InvalidBackendSocket: filepath.Join(dir, "invalid.sock"),
		ACMEStorage:          storage,
		HTTPChallengePort:    int32(p.httpPort), TLSALPNChallengePort: int32(p.tlsPort),
		RenewInterval: s.renewInterval, LogLevel: "ERROR",
	}
	p.backends = map[string]string{"a.default.svc.cluster.local:8080": echoBackend(t, "a").Listener.Addr().String()}
	p.last = p.emit(s.challenges, "a.tenants.example.com")
	return p
}

// load runs the last config emitted in the in-process Caddy.
func (p *acmePlane) load() {
	p.t.Helper()
	loadResult(p.t, p.last, p.opts.AdminListen, true)
	p.t.Cleanup(func() { _ = caddy.Stop() })
}

// emit emits the fixture with the route's extra hostnames, app and tenants presenting
// automatic certificates (app's obtained ahead, tenants' on demand) and static its
// Secret's.
func (p *acmePlane) emit(challenges []string, routeHosts ...string) emit.Result {
	p.t.Helper()
	y := strings.NewReplacer("HTTPPORT", fmt.Sprint(p.httpPort), "TLSPORT", fmt.Sprint(p.tlsPort),
		"ROUTEHOSTS", `"`+strings.Join(routeHosts, `", "`)+`"`).Replace(acmeFixture)
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
	g.ACME = &ir.ACME{Directory: p.ca.Directory, Email: "ops@example.com", TrustedRootsPEM: p.ca.DirectoryRootPEM, Challenges: challenges,
		ExternalAccount: p.eab}
	res, err := emit.Emit(g, p.opts)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// handshake completes a TLS handshake with serverName against the HTTPS port, trusting
// roots, and returns the leaf the server presented.
func (p *acmePlane) handshake(serverName string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second}, Config: &tls.Config{ServerName: serverName, RootCAs: roots}}
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
	p.waitState("app.example.com", acmestore.Valid, leaf.NotAfter)
	// Caddy neither redirects plain HTTP nor keeps a challenge path it has no token
	// for from the routes.
	for _, path := range []string{"/x", "/.well-known/acme-challenge/not-a-token"} {
		if got := p.plainGet("app.example.com", path); got != http.StatusOK {
			t.Errorf("GET http://app.example.com%s: status %d, want 200 from the route's backend", path, got)
		}
	}
}

// TestDataPlaneACMEHeldOrders loads the config with the orders held: Caddy orders
// nothing and app has no certificate, while on-demand issuance stays on; the config
// without the hold then obtains app's certificate with one order.
func TestDataPlaneACMEHeldOrders(t *testing.T) {
	both := []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}
	p := newACMEPlane(t, acmeSetup{challenges: both})
	unheld := p.last
	p.opts.HoldACMEOrders = true
	p.last = p.emit(both, "a.tenants.example.com")
	if p.last.Hash == unheld.Hash {
		t.Fatal("the held config is the unheld one")
	}
	p.load()
	time.Sleep(3 * time.Second)
	if _, err := p.handshake("app.example.com", p.ca.Roots()); err == nil {
		t.Error("app presents a certificate of the CA although its order is held")
	}
	if p.ca.Orders() != 0 {
		t.Fatalf("%d orders with the orders held, want 0", p.ca.Orders())
	}

	p.last = unheld
	loadResult(t, p.last, p.opts.AdminListen, false)
	leaf, took := p.waitCertificate("app.example.com", 60*time.Second)
	p.checkLeaf(leaf, "app.example.com")
	if p.ca.Orders() != 1 {
		t.Errorf("%d orders after the hold is lifted, want 1", p.ca.Orders())
	}
	t.Logf("certificate %s after the unheld config was loaded", took.Round(time.Millisecond))
}

// waitState waits until the certificate-state recorder the config subscribes to the
// certificate events has recorded phase for name in the storage, with notAfter.
func (p *acmePlane) waitState(name string, phase acmestore.Phase, notAfter time.Time) acmestore.CertificateState {
	p.t.Helper()
	var st acmestore.CertificateState
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st = acmestore.CertificateState{}
		data, err := os.ReadFile(filepath.Join(p.storageRoot, filepath.FromSlash(acmestore.StateKey(name))))
		if err == nil && json.Unmarshal(data, &st) == nil && st.Phase == phase && st.NotAfter.Equal(notAfter) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("state of %s: %+v, want %s until %s", name, st, phase, notAfter)
	return st
}

// plainGet requests path with host on the plain HTTP port, following no redirect, and
// returns the status.
func (p *acmePlane) plainGet(host, path string) int {
	p.t.Helper()
	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", p.httpPort, path), nil)
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatalf("GET http://%s%s: %v", host, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
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

// TestDataPlaneACMEOnDemand issues tenants' certificates at the first handshake, and
// only for a route's exact hostname: a name no route has, or one only a wildcard route
// covers, is refused at the handshake without an order; a route added later through
// the route tables (no config load) is then admitted.
func TestDataPlaneACMEOnDemand(t *testing.T) {
	both := []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}
	p := startACMEPlane(t, acmeSetup{challenges: both})
	// app is obtained ahead; wait for it so that its order is counted apart.
	p.waitCertificate("app.example.com", 60*time.Second)
	ahead := p.ca.Orders()

	start := time.Now()
	leaf, err := p.handshake("a.tenants.example.com", p.ca.Roots())
	if err != nil {
		t.Fatalf("first handshake for a route's hostname: %v", err)
	}
	t.Logf("on-demand certificate at the first handshake after %s", time.Since(start).Round(time.Millisecond))
	p.checkLeaf(leaf, "a.tenants.example.com")
	p.get("a.tenants.example.com")
	if got := p.ca.Orders() - ahead; got != 1 {
		t.Errorf("%d orders for the route's hostname, want 1", got)
	}

	// b has no route yet; c only a wildcard route.
	wild := p.emit(both, "a.tenants.example.com", "*.w.tenants.example.com")
	postTables(t, strings.TrimPrefix(p.opts.AdminListen, "unix/"), tablesDelta(p.last, wild))
	p.last = wild
	for _, name := range []string{"b.tenants.example.com", "c.w.tenants.example.com", "other.example.org"} {
		if _, err := p.handshake(name, p.ca.Roots()); err == nil {
			t.Errorf("handshake for %s succeeded, want it refused", name)
		}
	}
	if got := p.ca.Orders() - ahead; got != 1 {
		t.Errorf("%d orders after refused names, want still 1", got)
	}

	added := p.emit(both, "a.tenants.example.com", "*.w.tenants.example.com", "b.tenants.example.com")
	if added.Hash != p.last.Hash {
		t.Fatal("adding a route changed the config: the test means to change the route tables only")
	}
	postTables(t, strings.TrimPrefix(p.opts.AdminListen, "unix/"), tablesDelta(p.last, added))
	leaf, err = p.handshake("b.tenants.example.com", p.ca.Roots())
	if err != nil {
		t.Fatalf("handshake for a route's hostname added through the route tables: %v", err)
	}
	p.checkLeaf(leaf, "b.tenants.example.com")
	p.get("b.tenants.example.com")
}

// TestDataPlaneACMERenewal renews app's short-lived certificate before it expires and
// serves the new one, with no push in between.
func TestDataPlaneACMERenewal(t *testing.T) {
	const lifetime = 30 * time.Second
	p := startACMEPlane(t, acmeSetup{challenges: []string{ir.ACMEChallengeHTTP01}, lifetime: lifetime, renewInterval: "1s"})
	first, _ := p.waitCertificate("app.example.com", 60*time.Second)
	obtained := time.Now()
	for time.Since(obtained) < 2*lifetime {
		leaf, err := p.handshake("app.example.com", p.ca.Roots())
		if err != nil {
			t.Fatalf("handshake during renewal: %v", err)
		}
		if leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
			p.checkLeaf(leaf, "app.example.com")
			if !leaf.NotAfter.After(first.NotAfter) {
				t.Errorf("new certificate expires at %s, not after the first's %s", leaf.NotAfter, first.NotAfter)
			}
			if !time.Now().Before(first.NotAfter) {
				t.Errorf("renewed certificate served only after the first expired (%s)", first.NotAfter)
			}
			t.Logf("renewed certificate served %s after the first was obtained, %s before it expired (lifetime %s); orders %d",
				time.Since(obtained).Round(time.Millisecond), time.Until(first.NotAfter).Round(time.Millisecond), lifetime, p.ca.Orders())
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the certificate was not renewed within %s (orders %d)", 2*lifetime, p.ca.Orders())
}

// TestDataPlaneACMEUnreachableDirectory starts with the CA down: app has no
// certificate and is recorded Failing with the directory's answer, and everything else
// keeps serving — static its Secret's certificate on the same port, the plain HTTP
// listener its route.
func TestDataPlaneACMEUnreachableDirectory(t *testing.T) {
	p := startACMEPlane(t, acmeSetup{challenges: []string{ir.ACMEChallengeHTTP01}, down: true})
	st := p.waitState("app.example.com", acmestore.Failing, time.Time{})
	t.Logf("recorded error: %s", st.Error)
	if !strings.Contains(st.Error, "the CA is down") {
		t.Errorf("recorded error %q, want the directory's answer", st.Error)
	}
	if _, err := p.handshake("app.example.com", p.ca.Roots()); err == nil {
		t.Error("app presents a certificate of the CA although the CA is down")
	}
	p.othersServe()
	if p.ca.Orders() != 0 {
		t.Errorf("%d orders reached the CA while it was down", p.ca.Orders())
	}
}

// othersServe checks that the listeners without automatic certificates serve: static
// its Secret's certificate on the HTTPS port, the plain HTTP listener its route.
func (p *acmePlane) othersServe() {
	p.t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(fixture.CertPEM))
	leaf, err := p.handshake("foo.example.com", pool)
	if err != nil {
		p.t.Fatalf("static's handshake: %v", err)
	}
	if !slices.Contains(leaf.DNSNames, "foo.example.com") {
		p.t.Errorf("static presents %v", leaf.DNSNames)
	}
	if got := p.plainGet("app.example.com", "/x"); got != http.StatusOK {
		p.t.Errorf("plain HTTP listener: status %d, want 200", got)
	}
}

// TestDataPlaneACMEDirectoryDownAfterIssuance takes the CA down once app's and a
// tenant's certificates are served: a new on-demand name then fails, and the
// certificates held keep being served — app's past the start of its renewal window
// until just before it expires.
func TestDataPlaneACMEDirectoryDownAfterIssuance(t *testing.T) {
	const lifetime = 20 * time.Second
	both := []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}
	p := startACMEPlane(t, acmeSetup{challenges: both, lifetime: lifetime, renewInterval: "1s"})
	app, _ := p.waitCertificate("app.example.com", 60*time.Second)
	tenant, err := p.handshake("a.tenants.example.com", p.ca.Roots())
	if err != nil {
		t.Fatal(err)
	}
	p.ca.SetDown(true)
	added := p.emit(both, "a.tenants.example.com", "b.tenants.example.com")
	postTables(t, strings.TrimPrefix(p.opts.AdminListen, "unix/"), tablesDelta(p.last, added))
	if _, err := p.handshake("b.tenants.example.com", p.ca.Roots()); err == nil {
		t.Error("a new on-demand name got a certificate of the CA while it is down")
	}
	for time.Until(app.NotAfter) > 2*time.Second {
		for name, want := range map[string]*x509.Certificate{"app.example.com": app, "a.tenants.example.com": tenant} {
			leaf, err := p.handshake(name, p.ca.Roots())
			if err != nil {
				t.Fatalf("%s with the CA down, %s before expiry: %v", name, time.Until(app.NotAfter), err)
			}
			if leaf.SerialNumber.Cmp(want.SerialNumber) != 0 {
				t.Fatalf("%s presents another certificate with the CA down", name)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

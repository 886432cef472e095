package emit_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
)

// tlsListenersFixture has an HTTPS listener (PORT, "*.example.com") whose route
// answers /hello and /churn-CHURN, CHURN changing between pushes. The TLS listeners
// are added to its IR by tlsListeners: the translator's part is tested on its own.
const tlsListenersFixture = `
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
metadata: {name: web, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: Exact, value: /hello}}, {path: {type: Exact, value: /churn-CHURN}}]
    backendRefs: [{name: web, port: 8080}]
`

// tlsPlane is a data plane serving tlsListenersFixture and two TLS ports: standalone
// (a port of its own) and the HTTPS listener's port, shared.
type tlsPlane struct {
	d          *dataPlane
	push       *adminPush
	standalone int
	// catchAll is a third TLS port, whose one route has no hostnames.
	catchAll int
	// a, b, wild are TLS backends (passthrough); t1, t2 plain ones (terminate).
	a, b, wild, t1, t2 *lineBackend
	// one and two are the certificates of the listeners in mode Terminate.
	one, two testCert
	certs    []ir.Certificate
	// churn is the number of the last config pushed; with tlsChurn, the standalone and
	// shared ports have a route of their own for "churn-<churn>.example.org".
	churn    int
	tlsChurn bool
}

// Names of the listener certificates in mode Terminate.
const (
	certOne = "default/term-one"
	certTwo = "default/term-two"
)

// startTLSPlane starts the data plane, the listener ports' servers tuned by servers,
// and pushes its config through the admin-proxy.
func startTLSPlane(t *testing.T, servers emit.ServerOptions) *tlsPlane {
	p := &tlsPlane{standalone: testports.Port(t), catchAll: testports.Port(t),
		a: startLineBackend(t, "a", true), b: startLineBackend(t, "b", true), wild: startLineBackend(t, "wild", true),
		t1: startLineBackend(t, "t1", false), t2: startLineBackend(t, "t2", false),
		one: newTestCert(t, "listener-one", "term.example.org"), two: newTestCert(t, "listener-two", "*.example.net")}
	p.certs = []ir.Certificate{p.one.ir(t, certOne), p.two.ir(t, certTwo)}
	backends := map[string]string{"web.default.svc.cluster.local:8080": echoBackend(t, "web").Listener.Addr().String()}
	p.d = startDataPlaneWith(t, tlsListenersFixture, backends,
		emit.Options{RefusedBackend: "unix/" + filepath.Join(t.TempDir(), "refused.sock"), Servers: servers})
	p.push = startAdminPush(t, p.d)
	p.push.load(t, p.config(0))
	return p
}

// config emits the fixture with the CHURN-th path and the TLS listeners.
func (p *tlsPlane) config(churn int) emit.Result {
	p.d.t.Helper()
	g := p.d.translate(strings.ReplaceAll(tlsListenersFixture, "CHURN", fmt.Sprint(churn)))
	g.TLS = p.tlsListeners(churn)
	g.Certificates = append(g.Certificates, p.certs...)
	slices.SortFunc(g.Certificates, func(x, y ir.Certificate) int { return strings.Compare(x.Name, y.Name) })
	res, err := emit.Emit(g, p.d.opts)
	if err != nil {
		p.d.t.Fatal(err)
	}
	return res
}

func exceptFor(r ir.TLSRoute, hosts ...string) ir.TLSRoute {
	r.Except = hosts
	return r
}

func to(b *lineBackend, weight int32) ir.Backend {
	return ir.Backend{Address: b.addr(), Weight: weight}
}

// tlsListeners are the TLS servers, most specific hostname first as the translator
// orders them.
func (p *tlsPlane) tlsListeners(churn int) []ir.TLSServer {
	route := func(name string, hosts []string, certs []string, backends ...ir.Backend) ir.TLSRoute {
		return ir.TLSRoute{Listener: "tls", Hostnames: hosts, Certificates: certs, Route: "default/" + name + "/rule/0", Backends: backends}
	}
	standalone := ir.TLSServer{Port: int32(p.standalone), Routes: []ir.TLSRoute{
		route("a", []string{"a.example.org"}, nil, to(p.a, 1)),
		route("b", []string{"b.example.org"}, nil, to(p.b, 1)),
		route("half", []string{"half.example.org"}, nil, to(p.b, 1), ir.Backend{Weight: 1, Invalid: true}),
		// listener-two covers this name, listener-one does not: the route's own is shown.
		route("odd", []string{"odd.example.net"}, []string{certOne}, to(p.t1, 1)),
		route("term", []string{"term.example.org"}, []string{certOne}, to(p.t1, 1)),
		route("weights", []string{"weights.example.org"}, nil, to(p.a, 3), to(p.b, 1)),
		route("wild", []string{"*.wild.example.org"}, nil, to(p.wild, 1)),
		route("term-two", []string{"*.example.net"}, []string{certTwo}, to(p.t2, 1)),
	}}
	shared := ir.TLSServer{Port: int32(p.d.listenPort), SharedWithHTTPS: true, Routes: []ir.TLSRoute{
		route("db", []string{"db.example.com"}, nil, to(p.a, 1)),
		route("tdb", []string{"tdb.example.com"}, []string{certTwo}, to(p.t2, 1)),
		// A TLS listener "*.com", less specific than the HTTPS one: its names are left
		// to HTTPS.
		exceptFor(route("rest", []string{"*.com"}, nil, to(p.wild, 1)), "*.example.com"),
	}}
	if p.tlsChurn {
		r := route("churn", []string{fmt.Sprintf("churn-%d.example.org", churn)}, nil, to(p.wild, 1))
		standalone.Routes = slices.Insert(standalone.Routes, 0, r)
		shared.Routes = slices.Insert(shared.Routes, 0, r)
	}
	catchAll := ir.TLSServer{Port: int32(p.catchAll), Routes: []ir.TLSRoute{route("any", nil, nil, to(p.wild, 1))}}
	servers := []ir.TLSServer{standalone, shared, catchAll}
	slices.SortFunc(servers, func(x, y ir.TLSServer) int { return int(x.Port - y.Port) })
	return servers
}

// expectServed connects with serverName and expects the certificate leaf and the
// backend's greeting, then a line echoed through the connection.
func expectServed(t *testing.T, port int, serverName, leaf, greeting string) {
	t.Helper()
	c := dialSNI(t, port, serverName)
	if c == nil {
		t.Errorf("SNI %q: closed, want %s's certificate and backend %s", serverName, leaf, greeting)
		return
	}
	defer c.Close()
	if c.leaf != leaf || c.greeting != greeting {
		t.Errorf("SNI %q: certificate %q, backend %q; want %q, %q", serverName, c.leaf, c.greeting, leaf, greeting)
	}
	if !echoes(c, c.r, "ping "+serverName) {
		t.Errorf("SNI %q: no echo through the connection", serverName)
	}
}

// expectClosed connects with serverName and expects the Gateway to close the
// connection before any backend greets it.
func expectClosed(t *testing.T, port int, serverName string) {
	t.Helper()
	if c := dialSNI(t, port, serverName); c != nil {
		t.Errorf("SNI %q: served by %q with certificate %q, want closed", serverName, c.greeting, c.leaf)
		_ = c.Close()
	}
}

// TestDataPlaneTLSListeners serves TLS listeners through caddy-l4 in Caddy, configs
// pushed through the admin-proxy: passthrough shows the backend's own certificate,
// terminate the route's listener certificate (never another listener's, even one that
// covers the name) with the backend reading plaintext; server names route to their
// backends, wildcards match one or more labels, a route without hostnames takes every
// TLS connection; unknown names are closed on a port of its own and served by HTTPS on
// a shared one; weights hold 3:1; an invalid backend's
// share is closed; and long-lived streams survive pushes of unrelated changes.
func TestDataPlaneTLSListeners(t *testing.T) {
	p := startTLSPlane(t, emit.ServerOptions{})
	port := p.standalone

	t.Run("passthrough by server name", func(t *testing.T) {
		expectServed(t, port, "a.example.org", "backend-a", "a")
		expectServed(t, port, "b.example.org", "backend-b", "b")
		expectServed(t, port, "B.Example.ORG", "backend-b", "b")
	})

	t.Run("wildcard matches one or more labels", func(t *testing.T) {
		expectServed(t, port, "x.wild.example.org", "backend-wild", "wild")
		expectServed(t, port, "a.b.c.wild.example.org", "backend-wild", "wild")
		expectClosed(t, port, "wild.example.org")
		expectClosed(t, port, "xwild.example.org")
	})

	t.Run("unknown server name closed", func(t *testing.T) {
		for _, sni := range []string{"nope.example.org", "example.org", ""} {
			expectClosed(t, port, sni)
		}
	})

	t.Run("route without hostnames", func(t *testing.T) {
		for _, sni := range []string{"any.example.test", "localhost", ""} {
			expectServed(t, p.catchAll, sni, "backend-wild", "wild")
		}
	})

	t.Run("terminate with the listener's certificate", func(t *testing.T) {
		before := len(p.t1.received())
		expectServed(t, port, "term.example.org", "listener-one", "t1")
		if got := p.t1.received()[before:]; !slices.Equal(got, []string{"ping term.example.org\n"}) {
			t.Errorf("the terminate backend read %q, want the plaintext line", got)
		}
		expectServed(t, port, "odd.example.net", "listener-one", "t1")
		expectServed(t, port, "x.y.example.net", "listener-two", "t2")
	})

	t.Run("weights 3:1", func(t *testing.T) {
		const n = 400
		got := tlsGreetings(t, port, "weights.example.org", n)
		t.Logf("%d connections: %v", n, got)
		if got["a"] < 3*n/4-4 || got["a"] > 3*n/4+4 || got["a"]+got["b"] != n {
			t.Errorf("%d connections: %v, want a %d ±4, b the rest", n, got, 3*n/4)
		}
	})

	t.Run("weights 3:1 across pushes", func(t *testing.T) {
		got, pushes := tlsGreetingsAcrossPushes(t, p, "weights.example.org", tlsChurnConns)
		t.Logf("%d connections, a push after every 1–2 (%d pushes): %v", tlsChurnConns, pushes, got)
		if want := 3 * tlsChurnConns / 4; got["a"] < want-2 || got["a"] > want+2 || got["a"]+got["b"] != tlsChurnConns {
			t.Errorf("across pushes: %v, want a %d ±2, b the rest", got, want)
		}
	})

	t.Run("invalid backend's share closed", func(t *testing.T) {
		const n = 100
		bBefore := p.b.accepted.Load()
		got := tlsGreetings(t, port, "half.example.org", n)
		t.Logf("%d connections, one valid and one invalid backend: %v", n, got)
		if got[""] < n/2-2 || got[""] > n/2+2 || got["b"] != n-got[""] {
			t.Errorf("%d connections: %v, want half closed and half to b", n, got)
		}
		if reached := p.b.accepted.Load() - bBefore; reached != int64(got["b"]) {
			t.Errorf("b accepted %d connections, %d greeted", reached, got["b"])
		}
	})

	t.Run("shared with HTTPS", func(t *testing.T) {
		testTLSSharedWithHTTPS(t, p)
	})

	t.Run("long-lived streams across pushes", func(t *testing.T) {
		testTLSAcrossPushes(t, p)
	})
}

// tlsChurnConns is the number of connections the weights are measured over while the
// config is pushed after every one or two of them.
const tlsChurnConns = 120

// tlsGreetingsAcrossPushes opens n connections with serverName one after the other to
// the standalone port, pushing the config (an unrelated HTTPRoute changed) through the
// admin-proxy after every one or two, and counts the greetings by backend name.
func tlsGreetingsAcrossPushes(t *testing.T, p *tlsPlane, serverName string, n int) (map[string]int, int) {
	got, pushes := map[string]int{}, 0
	for done, step := 0, 1; done < n; step = 3 - step {
		for range min(step, n-done) {
			got[greetingOf(dialSNI(t, p.standalone, serverName))]++
			done++
		}
		p.churn++
		p.push.load(t, p.config(p.churn))
		pushes++
	}
	return got, pushes
}

// greetingOf is the greeting of c, "" when it was closed; it closes c.
func greetingOf(c *tlsConn) string {
	if c == nil {
		return ""
	}
	_ = c.Close()
	return c.greeting
}

package emit_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// tlsCert is the Gateway certificate of the TLS listeners in mode Terminate of the
// TLS server cases.
var tlsCert = ir.Certificate{Name: "default/tls-cert", CertPEM: fixture.CertPEM, KeyPEM: fixture.KeyPEM}

// tlsServerCase adds TLS servers (and tlsCert) to the IR of a translator golden case.
type tlsServerCase struct {
	// in is the translator case.
	in string
	// tls are the TLS servers added.
	tls []ir.TLSServer
	// servers are the emit options of the listener ports.
	servers emit.ServerOptions
}

// tlsServerCases are the goldens testdata/tls-servers/<name>.json.
var tlsServerCases = map[string]tlsServerCase{
	// A TLS port beside the HTTP port 80 and the TCP port 9000: passthrough by exact
	// name, terminate by wildcard with a 3:1 split and an invalid backend, and a
	// catch-all without backends.
	"standalone": {in: "routes-tcp-and-http-listeners", tls: []ir.TLSServer{{Port: 8443, Routes: []ir.TLSRoute{
		{Listener: "tls", Hostnames: []string{"a.example.com"}, Route: "default/pass/rule/0",
			Backends: []ir.Backend{{Address: "a.default.svc.cluster.local:8443", Weight: 1}}},
		{Listener: "tls", Hostnames: []string{"*.example.com", "b.example.org"}, Certificates: []string{tlsCert.Name},
			Route: "default/term/rule/0", Backends: []ir.Backend{
				{Address: "b.default.svc.cluster.local:8080", Weight: 3}, {Address: "c.default.svc.cluster.local:8080", Weight: 1},
				{Weight: 1, Invalid: true}}},
		{Listener: "tls", Route: "default/none/rule/0"},
	}}}},
	// A terminating route re-encrypts to its backends: one trusting a CA, one the
	// system's roots, one in the clear.
	"terminate-reencrypt": {in: "routes-tcp-and-http-listeners", tls: []ir.TLSServer{{Port: 8443, Routes: []ir.TLSRoute{
		{Listener: "tls", Hostnames: []string{"*.example.com"}, Certificates: []string{tlsCert.Name},
			Route: "default/term/rule/0", Backends: []ir.Backend{
				{Address: "b.default.svc.cluster.local:8443", Weight: 2, TLS: &ir.BackendTLS{ServerName: "b.example.com", TrustedCAs: []string{fixture.CertPEM}}},
				{Address: "c.default.svc.cluster.local:8443", Weight: 1, TLS: &ir.BackendTLS{ServerName: "c.example.com", SystemCAs: true}},
				{Address: "d.default.svc.cluster.local:8080", Weight: 1}}},
	}}}},
	// HTTPS on 443 keeps its certificates; a passthrough name is matched before them.
	"shared-https": {in: "gateway-https-terminate", tls: []ir.TLSServer{{Port: 443, SharedWithHTTPS: true, Routes: []ir.TLSRoute{
		{Listener: "tls", Hostnames: []string{"db.example.com"}, Route: "default/db/rule/0",
			Backends: []ir.Backend{{Address: "db.default.svc.cluster.local:5432", Weight: 1}}},
	}}}},
	// The PROXY header is read before the layer4 routes; the TLS options apply to the
	// terminated route too.
	"shared-proxy-protocol": {in: "gateway-https-terminate", tls: []ir.TLSServer{{Port: 443, SharedWithHTTPS: true, Routes: []ir.TLSRoute{
		{Listener: "tls", Hostnames: []string{"*.db.example.com"}, Certificates: []string{tlsCert.Name}, Route: "default/db/rule/0",
			Backends: []ir.Backend{{Address: "db.default.svc.cluster.local:5432", Weight: 1}}},
	}}}, servers: emit.ServerOptions{ProxyProtocol: &emit.ProxyProtocol{Allow: []string{"10.0.0.0/8"}}, TLSMinVersion: "1.3"}},
}

// tlsServerIR is the IR of case c.
func tlsServerIR(t testing.TB, c tlsServerCase) *ir.Gateway {
	t.Helper()
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, c.in)).IR
	g.TLS = c.tls
	g.Certificates = append(g.Certificates, tlsCert)
	slices.SortFunc(g.Certificates, func(a, b ir.Certificate) int { return strings.Compare(a.Name, b.Name) })
	return g
}

// TestGoldenTLSServers compares each TLS server case with its golden; the contract
// test has Caddy validate them.
func TestGoldenTLSServers(t *testing.T) {
	for name, c := range tlsServerCases {
		t.Run(name, func(t *testing.T) {
			res, err := emit.Emit(tlsServerIR(t, c), emit.Options{Servers: c.servers})
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenResult(t, filepath.Join("testdata", "tls-servers"), name, res)
		})
	}
	golden.Sweep(t, filepath.Join("testdata", "tls-servers"), ".json", slices.Collect(maps.Keys(tlsServerCases)))
	golden.Sweep(t, filepath.Join("testdata", "tls-servers", "tables"), ".json", slices.Collect(maps.Keys(tlsServerCases)))
}

// TestTLSServersRefused checks the TLS servers Emit refuses, and that the error names
// the port and what is wrong.
func TestTLSServersRefused(t *testing.T) {
	route := ir.TLSRoute{Listener: "tls", Route: "default/r/rule/0", Backends: []ir.Backend{{Address: "a:1", Weight: 1}}}
	cases := map[string]struct {
		in   string
		tls  []ir.TLSServer
		want string
	}{
		"port twice": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: 8443}, {Port: 8443, Routes: []ir.TLSRoute{route}}},
			"TLS port 8443: two TLS servers serve the port"},
		"shared without HTTPS": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: 8443, SharedWithHTTPS: true, Routes: []ir.TLSRoute{route}}},
			"TLS port 8443: sharedWithHTTPS is set but no HTTPS listener serves the port"},
		"shared with cleartext HTTP": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: 80, SharedWithHTTPS: true, Routes: []ir.TLSRoute{route}}},
			"TLS port 80: sharedWithHTTPS is set but no HTTPS listener serves the port"},
		"HTTPS port not shared": {"gateway-https-terminate", []ir.TLSServer{{Port: 443, Routes: []ir.TLSRoute{route}}},
			"TLS port 443: HTTP listeners serve the port but sharedWithHTTPS is not set"},
		"TCP port": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: 9000, Routes: []ir.TLSRoute{route}}},
			"TLS port 9000: a TCP listener serves the port"},
		"readiness port": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: emit.DefaultReadinessPort}},
			"listener port 8081 is reserved for the readiness server"},
		"unknown certificate": {"routes-tcp-and-http-listeners", []ir.TLSServer{{Port: 8443, Routes: []ir.TLSRoute{
			{Listener: "tls", Route: "default/r/rule/0", Certificates: []string{"default/nope"}, Backends: route.Backends}}}},
			`TLS port 8443 route "default/r/rule/0": certificate "default/nope" is not among the Gateway's certificates`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := tlsServerIR(t, tlsServerCase{in: c.in, tls: c.tls})
			_, err := emit.Emit(g, emit.Options{})
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

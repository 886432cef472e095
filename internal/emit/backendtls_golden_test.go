package emit_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"maps"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// backendClientCert is the Gateway certificate presented to TLS backends in the backend
// TLS cases.
var backendClientCert = ir.Certificate{Name: "default/backend-client", CertPEM: fixture.CertPEM, KeyPEM: fixture.KeyPEM}

// backendTLSCase gives backends of a translator golden case TLS.
type backendTLSCase struct {
	// in is the translator case.
	in string
	// tls is the TLS of the backends, by address.
	tls map[string]*ir.BackendTLS
}

// backendTLSCases are the goldens testdata/backend-tls/<name>.json.
var backendTLSCases = map[string]backendTLSCase{
	// The only backend of a rule speaks TLS verified against a CA and its server name.
	"one-backend": {in: "httproute-basic", tls: map[string]*ir.BackendTLS{
		"svc.default.svc.cluster.local:8080": {ServerName: "svc.example.com", TrustedCAs: []string{fixture.CertPEM}},
	}},
	// A TLS backend beside an invalid one: a split, the invalid branch in the clear to
	// the 500 server; SANs of both kinds replace the server name and the Gateway's
	// client certificate is presented.
	"beside-invalid-with-sans-and-client-certificate": {in: "httproute-invalid-backends", tls: map[string]*ir.BackendTLS{
		"svc.default.svc.cluster.local:8080": {ServerName: "svc.example.com", TrustedCAs: []string{fixture.CertPEM},
			SubjectAltNames:   []ir.SubjectAltName{{Hostname: "*.example.com"}, {URI: "spiffe://cluster.local/ns/default/sa/svc"}},
			ClientCertificate: backendClientCert.Name},
	}},
	// Backends with filters of their own keep their branches; the TLS one's proxy
	// speaks TLS, the mirror stays as it was.
	"backend-filters": {in: "httproute-backend-filters", tls: map[string]*ir.BackendTLS{
		"10.0.0.2:8080": {ServerName: "two.example.com", SystemCAs: true},
	}},
	// A TLS mirror beside a cleartext one: a handler each.
	"mirrors": {in: "httproute-request-mirror", tls: map[string]*ir.BackendTLS{
		"mirror-a.default.svc.cluster.local:8080": {ServerName: "mirror-a.example.com", TrustedCAs: []string{fixture.CertPEM},
			SubjectAltNames: []ir.SubjectAltName{{URI: "spiffe://cluster.local/ns/default/sa/mirror-a"}}, ClientCertificate: backendClientCert.Name},
	}},
	// A gRPC mirror of a backend's filters, over TLS (HTTP/2 by ALPN).
	"grpc-mirror": {in: "grpcroute-mirror-backend-filters", tls: map[string]*ir.BackendTLS{
		"10.0.1.3:9000": {ServerName: "mirror.example.com", SystemCAs: true},
	}},
	// gRPC backends: TLS ones speak HTTP/2 negotiated by ALPN; a rule with a TLS and a
	// cleartext backend splits.
	"grpc-system-cas": {in: "grpcroute-backends", tls: map[string]*ir.BackendTLS{
		"a.default.svc.cluster.local:9000": {ServerName: "a.example.com", SystemCAs: true},
	}},
}

// backendTLSIR is the IR of case c.
func backendTLSIR(t testing.TB, c backendTLSCase) *ir.Gateway {
	t.Helper()
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, c.in)).IR
	setBackendTLS(g, c.tls)
	for _, t := range c.tls {
		if t.ClientCertificate == backendClientCert.Name {
			g.Certificates = append(g.Certificates, backendClientCert)
			break
		}
	}
	slices.SortFunc(g.Certificates, func(a, b ir.Certificate) int { return strings.Compare(a.Name, b.Name) })
	return g
}

// setBackendTLS sets the TLS of the HTTP and gRPC backends and mirrors by their address.
func setBackendTLS(g *ir.Gateway, byAddr map[string]*ir.BackendTLS) {
	mirrors := func(ms []ir.Mirror) {
		for m := range ms {
			if t, ok := byAddr[ms[m].Address]; ok {
				ms[m].TLS = t
			}
		}
	}
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			for _, h := range g.HTTP[i].Listeners[j].Hosts {
				for _, r := range h.Routes {
					mirrors(r.Action.Mirrors)
					for b := range r.Action.Backends {
						be := &r.Action.Backends[b]
						if t, ok := byAddr[be.Address]; ok && !be.Invalid {
							be.TLS = t
						}
						if be.Filters != nil {
							mirrors(be.Filters.Mirrors)
						}
					}
				}
			}
		}
	}
}

// TestGoldenBackendTLS compares each backend TLS case with its golden; the contract
// test has Caddy validate them.
func TestGoldenBackendTLS(t *testing.T) {
	for name, c := range backendTLSCases {
		t.Run(name, func(t *testing.T) {
			res, err := emit.Emit(backendTLSIR(t, c), emit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenResult(t, filepath.Join("testdata", "backend-tls"), name, res)
		})
	}
	golden.Sweep(t, filepath.Join("testdata", "backend-tls"), ".json", slices.Collect(maps.Keys(backendTLSCases)))
	golden.Sweep(t, filepath.Join("testdata", "backend-tls", "tables"), ".json", slices.Collect(maps.Keys(backendTLSCases)))
}

// TestBackendTLSRefused checks the backend TLS Emit refuses, and that the error names
// the route, the backend and the field.
func TestBackendTLSRefused(t *testing.T) {
	const svc = "svc.default.svc.cluster.local:8080"
	const route = "route default/r/rule/0/match/0 backend " + svc + ": "
	cases := map[string]struct {
		tls  ir.BackendTLS
		want string
	}{
		"no server name":   {ir.BackendTLS{SystemCAs: true}, route + "tls.serverName is empty"},
		"no trust":         {ir.BackendTLS{ServerName: "s"}, "tls.trustedCAs is empty and tls.systemCAs is not set"},
		"both trusts":      {ir.BackendTLS{ServerName: "s", SystemCAs: true, TrustedCAs: []string{fixture.CertPEM}}, "are both set"},
		"garbage CA":       {ir.BackendTLS{ServerName: "s", TrustedCAs: []string{fixture.CertPEM, "garbage"}}, "tls.trustedCAs[1] holds no PEM certificate"},
		"key as CA":        {ir.BackendTLS{ServerName: "s", TrustedCAs: []string{fixture.KeyPEM}}, "tls.trustedCAs[0] holds no PEM certificate"},
		"empty SAN":        {ir.BackendTLS{ServerName: "s", SystemCAs: true, SubjectAltNames: []ir.SubjectAltName{{}}}, "tls.subjectAltNames[0] must set exactly one"},
		"SAN of two kinds": {ir.BackendTLS{ServerName: "s", SystemCAs: true, SubjectAltNames: []ir.SubjectAltName{{Hostname: "a", URI: "b"}}}, "tls.subjectAltNames[0]"},
		"unknown client certificate": {ir.BackendTLS{ServerName: "s", SystemCAs: true, ClientCertificate: "default/nope"},
			`tls.clientCertificate "default/nope" is not among the Gateway's certificates`},
		"client key of another certificate": {ir.BackendTLS{ServerName: "s", SystemCAs: true, ClientCertificate: "default/mismatch"},
			`tls.clientCertificate "default/mismatch": tls: private key does not match public key`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := translator.Translate(fixture.LoadCase(t, translatorTestdata, "httproute-basic")).IR
			other := gatewayCert(t, "", newTestCA(t, "other").clientCert(t))
			g.Certificates = append(g.Certificates, ir.Certificate{Name: "default/mismatch", CertPEM: fixture.CertPEM, KeyPEM: other.KeyPEM})
			setBackendTLS(g, map[string]*ir.BackendTLS{svc: &c.tls})
			_, err := emit.Emit(g, emit.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestBackendTLSRefusedOnLayer4 checks TLS on a TCP backend is refused, not spoken in
// the clear.
func TestBackendTLSRefusedOnLayer4(t *testing.T) {
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, "routes-tcp-and-http-listeners")).IR
	if len(g.TCP) == 0 || len(g.TCP[0].Backends) == 0 {
		t.Fatal("the case has no TCP backend")
	}
	g.TCP[0].Backends[0].TLS = &ir.BackendTLS{ServerName: "s", SystemCAs: true}
	_, err := emit.Emit(g, emit.Options{})
	if err == nil || !strings.Contains(err.Error(), "tls to layer4 backends is not supported") {
		t.Errorf("error %v, want the layer4 backend's TLS refused", err)
	}
}

// TestBackendTLSClientCertificateWithoutNames emits a client certificate that carries no
// name at all: Caddy's tls app would refuse to load it, so only the transport holds it,
// and Caddy accepts the config.
func TestBackendTLSClientCertificateWithoutNames(t *testing.T) {
	ca := newTestCA(t, "client-ca")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, "gateway-https-terminate")).IR
	g.Certificates = append(g.Certificates, gatewayCert(t, "default/nameless", tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}))
	all := map[string]*ir.BackendTLS{}
	for _, l := range g.HTTP[0].Listeners {
		for _, h := range l.Hosts {
			for _, r := range h.Routes {
				for _, b := range r.Action.Backends {
					all[b.Address] = &ir.BackendTLS{ServerName: "s", SystemCAs: true, ClientCertificate: "default/nameless"}
				}
			}
		}
	}
	setBackendTLS(g, all)
	res, err := emit.Emit(g, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tablesRoutes(res), []byte(`"client_key"`)) || !bytes.Contains(res.JSON, []byte(`"load_pem"`)) {
		t.Fatal("the case must present the client certificate and serve the listener's certificate")
	}
	if err := caddyValidateResult(res); err != nil {
		t.Fatal(err)
	}
}

// TestBackendTLSKeepsProxyListsApart emits two routes to one backend address that
// differ only in TLS (and a third in none): plain proxy actions of equal content share
// one handler list, so the TLS must be part of that content.
func TestBackendTLSKeepsProxyListsApart(t *testing.T) {
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, "httproute-basic")).IR
	host := &g.HTTP[0].Listeners[0].Hosts[0]
	base := host.Routes[0]
	for _, name := range []string{"a.example.com", "b.example.com", ""} {
		a := *base.Action
		a.Backends = slices.Clone(a.Backends)
		if name != "" {
			a.Backends[0].TLS = &ir.BackendTLS{ServerName: name, SystemCAs: true}
		}
		m := *base.Match
		m.Path = "/" + name
		host.Routes = append(host.Routes, ir.Route{Source: base.Source, Match: &m, Action: &a})
	}
	res, err := emit.Emit(g, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := tablesRoutes(res)
	for _, want := range []string{`"server_name":"a.example.com"`, `"server_name":"b.example.com"`} {
		if n := bytes.Count(b, []byte(want)); n != 1 {
			t.Errorf("%s appears %d times, want once", want, n)
		}
	}
	if n := bytes.Count(b, []byte(`"gateway_tls"`)); n != 2 {
		t.Errorf("%d gateway_tls transports, want 2 (the cleartext routes share a plain list)", n)
	}
}

// TestBackendTLSRefusedOnMirror checks bad TLS of a mirror is refused naming it.
func TestBackendTLSRefusedOnMirror(t *testing.T) {
	g := translator.Translate(fixture.LoadCase(t, translatorTestdata, "httproute-request-mirror")).IR
	setBackendTLS(g, map[string]*ir.BackendTLS{"mirror-a.default.svc.cluster.local:8080": {SystemCAs: true}})
	_, err := emit.Emit(g, emit.Options{})
	if want := "mirror mirror-a.default.svc.cluster.local:8080: tls.serverName is empty"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

// TestBackendTLSRefusedOnTLSRoutes checks the TLS a TLS route's backend cannot have is
// refused naming the route, the backend and the field.
func TestBackendTLSRefusedOnTLSRoutes(t *testing.T) {
	const prefix = `TLS port 8443 route "default/r/rule/0" backend b:8443: `
	cases := map[string]struct {
		certs []string
		tls   ir.BackendTLS
		want  string
	}{
		"passthrough": {nil, ir.BackendTLS{ServerName: "s", SystemCAs: true}, prefix + "tls is set on a passthrough route"},
		"SANs": {[]string{tlsCert.Name}, ir.BackendTLS{ServerName: "s", SystemCAs: true, SubjectAltNames: []ir.SubjectAltName{{URI: "u"}}},
			prefix + "tls.subjectAltNames are not supported on TLSRoute backends"},
		"client certificate": {[]string{tlsCert.Name}, ir.BackendTLS{ServerName: "s", SystemCAs: true, ClientCertificate: tlsCert.Name},
			prefix + "tls.clientCertificate is not supported on TLSRoute backends"},
		"no trust": {[]string{tlsCert.Name}, ir.BackendTLS{ServerName: "s"}, prefix + "tls.trustedCAs is empty"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := tlsServerIR(t, tlsServerCase{in: "httproute-basic", tls: []ir.TLSServer{{Port: 8443, Routes: []ir.TLSRoute{{
				Listener: "tls", Certificates: c.certs, Route: "default/r/rule/0",
				Backends: []ir.Backend{{Address: "b:8443", Weight: 1, TLS: &c.tls}}}}}}})
			_, err := emit.Emit(g, emit.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

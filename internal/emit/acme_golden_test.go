package emit_test

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// acmeGateway is a Gateway with a plain HTTP port 80 and an HTTPS port 443 whose
// listeners are: an exact hostname with automatic certificates, a wildcard issuing on
// demand, and an exact hostname with a Secret's certificate (which wins over the
// automatic certificates it also asks for).
func acmeGateway() *ir.Gateway {
	route := func(host string) ir.HostGroup {
		return ir.HostGroup{Hostname: host, Routes: []ir.Route{{
			Source: ir.Source{Rule: &ir.RuleSource{Kind: "HTTPRoute", Namespace: "default", Name: "r"}},
			Match:  &ir.Match{PathType: ir.PathPrefix, Path: "/"},
			Action: &ir.Action{Backends: []ir.Backend{{Address: "a.default.svc.cluster.local:8080", Weight: 1}}},
		}}}
	}
	return &ir.Gateway{
		Namespace: "default", Name: "gw",
		HTTP: []ir.HTTPServer{
			{Port: 80, Listeners: []ir.Listener{{Name: "http", Hosts: []ir.HostGroup{route("app.example.com")}}}},
			{Port: 443, TLS: true, Listeners: []ir.Listener{
				{Name: "app", Hostname: "app.example.com", Automatic: &ir.AutomaticCertificates{Names: []string{"app.example.com"}},
					Hosts: []ir.HostGroup{route("app.example.com")}},
				{Name: "secret", Hostname: "secret.example.com", Certificates: []string{"default/cert"},
					Automatic: &ir.AutomaticCertificates{Names: []string{"secret.example.com"}}, Hosts: []ir.HostGroup{route("secret.example.com")}},
				{Name: "tenants", Hostname: "*.tenants.example.com", Automatic: &ir.AutomaticCertificates{OnDemand: true},
					Hosts: []ir.HostGroup{route("a.tenants.example.com")}},
			}},
		},
		Certificates: []ir.Certificate{{Name: "default/cert", CertPEM: fixture.CertPEM, KeyPEM: fixture.KeyPEM}},
		ACME: &ir.ACME{
			Directory: "https://acme.internal.example/directory", Email: "ops@example.com",
			ExternalAccount: &ir.ACMEExternalAccount{KeyID: "kid-1", MACKey: "bWFj"},
			Challenges:      []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01},
		},
	}
}

// acmeFileStorage is the storage of the ACME goldens Caddy validates without the
// operator's storage module.
var acmeFileStorage = json.RawMessage(`{"module":"file_system","root":"/tmp/caddy-acme-golden"}`)

// acmeCases are the goldens testdata/acme/<name>.json.
var acmeCases = map[string]struct {
	g    func() *ir.Gateway
	opts emit.Options
}{
	// The defaults: the Gateway's storage Secrets and the certificate-state recorder.
	"defaults": {g: acmeGateway},
	// HTTP-01 only, the directory trusted through an inline root, placeholders in the
	// user's strings escaped; a file storage and no recorder, as the data-plane tests run.
	"http01-trusted-root-file-storage": {g: func() *ir.Gateway {
		g := acmeGateway()
		g.ACME.Challenges = []string{ir.ACMEChallengeHTTP01}
		g.ACME.TrustedRootsPEM = fixture.CertPEM
		g.ACME.Email = "{env.HOME}@example.com"
		g.ACME.ExternalAccount = nil
		return g
	}, opts: emit.Options{ACMEStorage: acmeFileStorage, RenewInterval: "1s",
		HTTPChallengePort: 8080, TLSALPNChallengePort: 8443, ListenHost: "127.0.0.1"}},
	// The defaults with the orders held (no Caddy pod of the Gateway ready yet): no names
	// obtained ahead, everything else as in defaults.
	"held-orders": {g: acmeGateway, opts: emit.Options{HoldACMEOrders: true}},
	// On demand only: no names obtained ahead, TLS-ALPN-01 only.
	"on-demand-only": {g: func() *ir.Gateway {
		g := acmeGateway()
		g.HTTP[1].Listeners = g.HTTP[1].Listeners[2:]
		g.ACME.Challenges = []string{ir.ACMEChallengeTLSALPN01}
		return g
	}, opts: emit.Options{ACMEStorage: acmeFileStorage}},
}

// TestGoldenACME compares the configs of Gateways with automatic certificates with
// testdata/acme/<name>.json.
func TestGoldenACME(t *testing.T) {
	for name, c := range acmeCases {
		t.Run(name, func(t *testing.T) {
			res, err := emit.Emit(c.g(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenResult(t, filepath.Join("testdata", "acme"), name, res)
		})
	}
	golden.Sweep(t, filepath.Join("testdata", "acme"), ".json", slices.Collect(maps.Keys(acmeCases)))
	golden.Sweep(t, filepath.Join("testdata", "acme", "tables"), ".json", slices.Collect(maps.Keys(acmeCases)))
}

// TestACMERefused checks the ACME settings Emit refuses, and that the error names the
// field.
func TestACMERefused(t *testing.T) {
	cases := map[string]struct {
		edit func(*ir.Gateway)
		want string
	}{
		"no settings":       {func(g *ir.Gateway) { g.ACME = nil }, `listener "app" asks for automatic certificates but the Gateway has no ACME settings`},
		"no directory":      {func(g *ir.Gateway) { g.ACME.Directory = "" }, "acme.directory is empty"},
		"no challenges":     {func(g *ir.Gateway) { g.ACME.Challenges = nil }, "acme.challenges is empty"},
		"unknown challenge": {func(g *ir.Gateway) { g.ACME.Challenges = []string{"dns-01"} }, `acme.challenges: unknown challenge type "dns-01"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := acmeGateway()
			c.edit(g)
			_, err := emit.Emit(g, emit.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestACMEOnlyWhenPresented checks that a Gateway whose listeners present no automatic
// certificate (those asking for them all hold a Secret's) gets no storage, automation
// or recorder, even with ACME settings.
func TestACMEOnlyWhenPresented(t *testing.T) {
	g := acmeGateway()
	g.HTTP[1].Listeners = g.HTTP[1].Listeners[1:2]
	res, err := emit.Emit(g, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"storage"`, `"automation"`, `"events"`, `"automate"`} {
		if strings.Contains(string(res.JSON), k) {
			t.Errorf("config holds %s", k)
		}
	}
}

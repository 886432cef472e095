package emit_test

import (
	"slices"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestConfigDoesNotDependOnRoutes emits Gateways that differ only in their routes (one
// route fewer, a backend made invalid, a backend spoken to with TLS presenting the
// Gateway's client certificate, every route gone) and expects the same config and hash,
// and other host tables.
func TestConfigDoesNotDependOnRoutes(t *testing.T) {
	for _, name := range []string{"generated", "gateway-https-terminate"} {
		in := generateInput(20)
		if name != "generated" {
			in = fixture.LoadCase(t, translatorTestdata, name)
		}
		base := emitIR(t, withClientCert(translator.Translate(in).IR))
		fewer := in
		fewer.HTTPRoutes = in.HTTPRoutes[:len(in.HTTPRoutes)-1]
		none := in
		none.HTTPRoutes = nil
		invalid := translator.Translate(in).IR
		h := &invalid.HTTP[0].Listeners[0].Hosts[0]
		h.Routes[0].Action.Backends[0].Invalid = true
		presenting := withClientCert(translator.Translate(in).IR)
		addr := presenting.HTTP[0].Listeners[0].Hosts[0].Routes[0].Action.Backends[0].Address
		setBackendTLS(presenting, map[string]*ir.BackendTLS{addr: {
			ServerName: "backend", TrustedCAs: []string{fixture.CertPEM}, ClientCertificate: backendClientCert.Name}})
		for change, res := range map[string]emit.Result{
			"one route fewer":    emitIR(t, withClientCert(translator.Translate(fewer).IR)),
			"no routes":          emitIR(t, withClientCert(translator.Translate(none).IR)),
			"an invalid backend": emitIR(t, withClientCert(invalid)), "a backend presenting the client certificate": emitIR(t, presenting),
		} {
			if res.Hash != base.Hash || string(res.JSON) != string(base.JSON) {
				t.Errorf("%s, %s: the config changed", name, change)
			}
			if tablesEqual(res.Tables, base.Tables) {
				t.Errorf("%s, %s: the host tables did not change", name, change)
			}
		}
	}
}

// withClientCert gives g the Gateway's backend client certificate.
func withClientCert(g *ir.Gateway) *ir.Gateway {
	g.Certificates = append(g.Certificates, backendClientCert)
	return g
}

func emitIR(t *testing.T, g *ir.Gateway) emit.Result {
	t.Helper()
	res, err := emit.Emit(g, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tablesEqual(a, b []caddyjson.HostTable) bool {
	return slices.EqualFunc(a, b, func(x, y caddyjson.HostTable) bool {
		return x.Table == y.Table && x.Host == y.Host && x.Hash == y.Hash
	})
}

package emit_test

import (
	"slices"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestConfigDoesNotDependOnRoutes emits Gateways that differ only in their routes (one
// route fewer, a backend made invalid, every route gone) and expects the same config
// and hash, and other host tables.
func TestConfigDoesNotDependOnRoutes(t *testing.T) {
	for _, name := range []string{"generated", "gateway-https-terminate"} {
		in := generateInput(20)
		if name != "generated" {
			in = fixture.LoadCase(t, translatorTestdata, name)
		}
		base := emitInput(t, in)
		fewer := in
		fewer.HTTPRoutes = in.HTTPRoutes[:len(in.HTTPRoutes)-1]
		none := in
		none.HTTPRoutes = nil
		invalid := translator.Translate(in).IR
		h := &invalid.HTTP[0].Listeners[0].Hosts[0]
		h.Routes[0].Action.Backends[0].Invalid = true
		invalidRes, err := emit.Emit(invalid, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for change, res := range map[string]emit.Result{
			"one route fewer": emitInput(t, fewer), "no routes": emitInput(t, none), "an invalid backend": invalidRes,
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

func emitInput(t *testing.T, in translator.Input) emit.Result {
	t.Helper()
	res, err := emit.Emit(translator.Translate(in).IR, emit.Options{})
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

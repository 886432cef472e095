package split

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// load provisions a split whose branch i answers its index, as a config load does,
// in a context of its own; cancel unloads it (Caddy then calls Cleanup).
func load(t *testing.T, key string, weights ...int) (*Handler, context.CancelFunc) {
	t.Helper()
	branches := make([]string, len(weights))
	for i, w := range weights {
		branches[i] = fmt.Sprintf(`{"weight": %d, "routes": [{"handle": [{"handler": "static_response", "body": "%d"}]}]}`, w, i)
	}
	raw := fmt.Sprintf(`{"key": %q, "branches": [%s]}`, key, strings.Join(branches, ","))
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	mod, err := ctx.LoadModuleByID("http.handlers.gateway_split", json.RawMessage(raw))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return mod.(*Handler), cancel
}

// serve sends n requests through h and returns the answering branches.
func serve(t *testing.T, h *Handler, n int) string {
	t.Helper()
	var out strings.Builder
	for range n {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		repl := caddy.NewReplacer()
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
		if err := h.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })); err != nil {
			t.Fatal(err)
		}
		out.WriteString(rec.Body.String())
	}
	return out.String()
}

func TestSplitFollowsWeightsSmoothly(t *testing.T) {
	h, unload := load(t, "", 3, 1, 2)
	defer unload()
	if got, want := serve(t, h, 12), "020120020120"; got != want {
		t.Errorf("weights 3:1:2 served branches %s, want %s", got, want)
	}
}

func TestSplitContinuesAcrossReloads(t *testing.T) {
	ref, unloadRef := load(t, "", 3, 1)
	want := serve(t, ref, 11)
	unloadRef()

	a, unloadA := load(t, "default/route/rule/0", 3, 1)
	got := serve(t, a, 5)
	b, unloadB := load(t, "default/route/rule/0", 3, 1) // provisioned before the old one is unloaded
	unloadA()
	got += serve(t, b, 6)
	if got != want {
		t.Errorf("across a reload served %s, want the uninterrupted %s", got, want)
	}
	// Other weights under the same key start afresh.
	c, unloadC := load(t, "default/route/rule/0", 1, 1)
	unloadB()
	defer unloadC()
	if got := serve(t, c, 4); got != "0101" {
		t.Errorf("changed weights served %s, want a fresh 0101", got)
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		h       Handler
		wantErr bool
	}{
		"ok":          {h: Handler{Branches: []Branch{{Weight: 1}}}},
		"no branches": {h: Handler{}, wantErr: true},
		"zero weight": {h: Handler{Branches: []Branch{{Weight: 1}, {Weight: 0}}}, wantErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := c.h.Validate(); (err != nil) != c.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, c.wantErr)
			}
		})
	}
}

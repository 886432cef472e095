package smooth

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// load provisions the policy as a config load does, in a context of its own; cancel
// unloads it (Caddy then calls Cleanup).
func load(t *testing.T, raw string) (*Selection, context.CancelFunc) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	mod, err := ctx.LoadModuleByID("http.reverse_proxy.selection_policies.gateway_smooth", json.RawMessage(raw))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return mod.(*Selection), cancel
}

func testPool(n int) reverseproxy.UpstreamPool {
	pool := make(reverseproxy.UpstreamPool, n)
	for i := range pool {
		pool[i] = &reverseproxy.Upstream{Host: new(reverseproxy.Host), Dial: fmt.Sprintf("10.0.0.%d:80", i+1)}
	}
	return pool
}

// selectN returns the pool indices of n selections.
func selectN(s *Selection, pool reverseproxy.UpstreamPool, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = slices.Index(pool, s.Select(pool, nil, nil))
	}
	return out
}

func TestSelectionContinuesAcrossReloads(t *testing.T) {
	pool := testPool(2)
	const cfg = `{"key": "default/canary/rule/0", "weights": [90, 10]}`
	a, unloadA := load(t, cfg)
	seq := selectN(a, pool, 133)
	b, unloadB := load(t, cfg) // the new config is provisioned before the old one is unloaded
	unloadA()
	seq = append(seq, selectN(b, pool, 167)...)
	for start := 0; start+100 <= len(seq); start++ {
		light := 0
		for _, i := range seq[start : start+100] {
			if i == 1 {
				light++
			}
		}
		if light != 10 {
			t.Fatalf("selections %d..%d gave the weight-10 upstream %d, want 10", start, start+100, light)
		}
	}

	// Other weights under the same key start afresh.
	c, unloadC := load(t, `{"key": "default/canary/rule/0", "weights": [1, 1]}`)
	unloadB()
	defer unloadC()
	if got := selectN(c, pool, 4); !slices.Equal(got, []int{0, 1, 0, 1}) {
		t.Errorf("changed weights selected %v, want a fresh [0 1 0 1]", got)
	}
}

func TestSelectionOnlyWeightedUpstreams(t *testing.T) {
	s, unload := load(t, `{"weights": [1, 0, 1, 1]}`)
	defer unload()
	got := selectN(s, testPool(3), 6)
	if !slices.Equal(got, []int{0, 2, 0, 2, 0, 2}) {
		t.Errorf("weights [1 0 1 1] over 3 upstreams selected %v, want 0 and 2 alternately", got)
	}
	if u := s.Select(nil, nil, nil); u != nil {
		t.Errorf("empty pool selected %v, want nil", u)
	}
}

func TestSelectionRejectsBadWeights(t *testing.T) {
	for raw, want := range map[string]string{
		`{"weights": [2, -1]}`: "weights[1]: -1 must not be negative",
		`{"weights": [0]}`:     "weights: at least one must be positive",
		`{}`:                   "weights: at least one is needed",
	} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		_, err := ctx.LoadModuleByID("http.reverse_proxy.selection_policies.gateway_smooth", json.RawMessage(raw))
		cancel()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

package l4smooth

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/modules/l4proxy"
)

const moduleID = "layer4.proxy.selection_policies.gateway_smooth"

// load provisions the policy as a config load does, in a context of its own; cancel
// unloads it (Caddy then calls Cleanup).
func load(t *testing.T, raw string) (*Selection, context.CancelFunc) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	mod, err := ctx.LoadModuleByID(moduleID, json.RawMessage(raw))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return mod.(*Selection), cancel
}

func testPool(n int) l4proxy.UpstreamPool {
	pool := make(l4proxy.UpstreamPool, n)
	for i := range pool {
		pool[i] = &l4proxy.Upstream{Dial: []string{fmt.Sprintf("10.0.0.%d:7000", i+1)}}
	}
	return pool
}

// selectN returns the pool indices of n selections.
func selectN(s *Selection, pool l4proxy.UpstreamPool, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = slices.Index(pool, s.Select(pool, nil))
	}
	return out
}

// count returns how often i occurs in seq.
func count(seq []int, i int) int {
	n := 0
	for _, j := range seq {
		if j == i {
			n++
		}
	}
	return n
}

// TestSelectionContinuesAcrossReloads reloads after every one or two selections, as a
// Gateway does whose config is pushed between connections: the weights still hold in
// every window of their sum, and other weights under the same key start afresh.
func TestSelectionContinuesAcrossReloads(t *testing.T) {
	pool := testPool(2)
	const cfg = `{"key": "TCPRoute default/weighted/rule/0 a:7000 b:7000", "weights": [3, 1]}`
	s, unload := load(t, cfg)
	var seq []int
	for i := range 60 {
		seq = append(seq, selectN(s, pool, 1+i%2)...)
		next, unloadNext := load(t, cfg) // the new config is provisioned before the old one is unloaded
		unload()
		s, unload = next, unloadNext
	}
	for start := 0; start+4 <= len(seq); start++ {
		if light := count(seq[start:start+4], 1); light != 1 {
			t.Fatalf("selections %d..%d %v gave the weight-1 upstream %d, want 1", start, start+4, seq[start:start+4], light)
		}
	}

	// Other weights under the same key start afresh.
	c, unloadC := load(t, `{"key": "TCPRoute default/weighted/rule/0 a:7000 b:7000", "weights": [1, 1]}`)
	unload()
	defer unloadC()
	if got := selectN(c, pool, 4); !slices.Equal(got, []int{0, 1, 0, 1}) {
		t.Errorf("changed weights selected %v, want a fresh [0 1 0 1]", got)
	}
}

// TestSelectionKeysAreSeparate keeps the sequences of two keys apart, so that routes
// of different kinds or rules with the same backends do not share picks.
func TestSelectionKeysAreSeparate(t *testing.T) {
	pool := testPool(2)
	tcp, unloadTCP := load(t, `{"key": "TCPRoute default/r/rule/0 a:7000 b:7000", "weights": [1, 1]}`)
	defer unloadTCP()
	udp, unloadUDP := load(t, `{"key": "UDPRoute default/r/rule/0 a:7000 b:7000", "weights": [1, 1]}`)
	defer unloadUDP()
	var got []int
	for range 2 {
		got = append(got, slices.Index(pool, tcp.Select(pool, nil)), slices.Index(pool, udp.Select(pool, nil)))
	}
	if !slices.Equal(got, []int{0, 0, 1, 1}) {
		t.Errorf("interleaved selections of two keys %v, want each key's own [0 1] sequence", got)
	}
}

func TestSelectionOnlyWeightedUpstreams(t *testing.T) {
	s, unload := load(t, `{"weights": [1, 0, 1, 1]}`)
	defer unload()
	got := selectN(s, testPool(3), 6)
	if !slices.Equal(got, []int{0, 2, 0, 2, 0, 2}) {
		t.Errorf("weights [1 0 1 1] over 3 upstreams selected %v, want 0 and 2 alternately", got)
	}
	if u := s.Select(nil, nil); u != nil {
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
		_, err := ctx.LoadModuleByID(moduleID, json.RawMessage(raw))
		cancel()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

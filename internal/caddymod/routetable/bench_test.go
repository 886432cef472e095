package routetable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// hostTables is n host tables of one route each, one exact host each.
func hostTables(n int) []caddyjson.HostTable {
	set := make([]caddyjson.HostTable, n)
	for i := range set {
		set[i] = table("80/", fmt.Sprintf("h%d.example.com", i), route("/", static("ok")))
	}
	return set
}

// loaded starts a gateway holding n host tables; report tells how long their POST took
// and the heap they hold.
func loaded(b *testing.B, n int) (g *gw, report func()) {
	g = startCaddy(b, "80/")
	set := hostTables(n)
	before := heap()
	start := time.Now()
	g.mustPost(b, caddyjson.TablesDelta{Replace: true, Set: set})
	took := time.Since(start)
	held := heap() - before
	return g, func() {
		b.ReportMetric(float64(took.Milliseconds()), "ms-post-all")
		b.ReportMetric(float64(held)/float64(n)/1024, "KiB-heap/host")
	}
}

func heap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkRequest is the latency of one request through Caddy to a host table.
func BenchmarkRequest(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			g, report := loaded(b, n)
			defer report()
			b.ResetTimer()
			for i := range b.N {
				if code, _ := g.get(b, fmt.Sprintf("h%d.example.com", i*7919%n), "/"); code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}

// BenchmarkDelta is the time of a POST setting one host table while n are held.
func BenchmarkDelta(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			g, report := loaded(b, n)
			defer report()
			b.ResetTimer()
			for i := range b.N {
				g.mustPost(b, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
					table("80/", fmt.Sprintf("h%d.example.com", i%n), route("/", static(fmt.Sprint(i)))),
				}})
			}
		})
	}
}

// BenchmarkHostDispatch compares a request to one of n hosts served from host tables
// with the same request served by routes that each match their host with a Host
// header_regexp, tried in order (how HTTP routes were matched in Caddy's config before
// route tables).
func BenchmarkHostDispatch(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("tables/hosts=%d", n), func(b *testing.B) {
			g, _ := loaded(b, n)
			benchHosts(b, g, n)
		})
		b.Run(fmt.Sprintf("header_regexp/hosts=%d", n), func(b *testing.B) {
			g := startCaddy(b)
			if err := caddy.Load(regexpHosts(g.sock, g.port, n), true); err != nil {
				b.Fatal(err)
			}
			benchHosts(b, g, n)
		})
	}
}

func benchHosts(b *testing.B, g *gw, n int) {
	b.ResetTimer()
	for i := range b.N {
		if code, _ := g.get(b, fmt.Sprintf("h%d.example.com", i*7919%n), "/"); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
	}
}

// regexpHosts is a config whose server has one route per host h<i>.example.com, matched
// by a Host header_regexp, answering ok; then 404.
func regexpHosts(sock string, port, n int) []byte {
	routes := make([]any, 0, n+1)
	for i := range n {
		routes = append(routes, map[string]any{
			"match": []any{map[string]any{"header_regexp": map[string]any{
				"Host": map[string]any{"pattern": fmt.Sprintf(`(?i)^h%d\.example\.com(?::[0-9]+)?$`, i)},
			}}},
			"handle":   []any{static("ok")},
			"terminal": true,
		})
	}
	routes = append(routes, map[string]any{"handle": []any{map[string]any{"handler": "static_response", "status_code": 404}}})
	b, _ := json.Marshal(map[string]any{
		"admin":   map[string]any{"listen": "unix/" + sock, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"s": map[string]any{
			"listen":          []string{fmt.Sprintf("127.0.0.1:%d", port)},
			"routes":          routes,
			"automatic_https": map[string]any{"disable": true},
		}}}},
	})
	return b
}

package routetable

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

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

package pusher_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/pusher"
)

// benchPods is the size of the benchmarked Gateway's fleet.
const benchPods = 100

// benchSetup starts benchPods local mTLS pods and a Pusher with the controller's limits.
func benchSetup(b *testing.B) (*pusher.Pusher, pusher.Request) {
	b.Helper()
	p := newPKI(b)
	f := startFleet(b, p, benchPods, ok)
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 10 * time.Second, MaxConcurrent: 16}})
	return push, pusher.Request{
		Gateway: testGateway, Targets: f.targets(), Config: config("h0"),
		TLS: p.clientTLS(b, p.serverName), Port: f.port,
	}
}

// BenchmarkPushUnchanged is the common reconcile: every pod already runs the config.
func BenchmarkPushUnchanged(b *testing.B) {
	push, req := benchSetup(b)
	if res := push.Push(context.Background(), req); res.Programmed != benchPods {
		b.Fatalf("first push: %+v", res)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := push.Push(context.Background(), req); res.Pushed != 0 || res.Programmed != benchPods {
			b.Fatalf("got %+v", res)
		}
	}
}

// BenchmarkPush100Pods sends a new config to every pod: one mTLS handshake and POST each.
func BenchmarkPush100Pods(b *testing.B) {
	push, req := benchSetup(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req.Config = config("h" + strconv.Itoa(i))
		if res := push.Push(context.Background(), req); res.Pushed != benchPods || res.Programmed != benchPods {
			b.Fatalf("got %+v", res)
		}
	}
}

package pusher_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
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

// benchRoutes is the number of routes, one host each, of BenchmarkPushOneRouteChange.
const benchRoutes = 10000

// BenchmarkPushOneRouteChange changes one route of a Gateway of benchRoutes routes, each
// its own hostname (so one host table each, shaped as emitted: a path match proxying to a
// Service), and reports the bytes sent for it ("bytes/push") next to the bytes of the
// whole config ("full-bytes": every host table and the frame, as a pod the Pusher does not
// know is sent them).
func BenchmarkPushOneRouteChange(b *testing.B) {
	p := newPKI(b)
	c := newFakeCaddy()
	f := fakeFleet(b, p, c)
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: time.Minute}})
	tables := make([]caddyjson.HostTable, benchRoutes)
	for i := range tables {
		tables[i] = benchTable(i, 0)
	}
	frameJSON := benchFrame()
	cfg := pusher.Config{JSON: frameJSON, Hash: "f1", Tables: tables}
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), Config: cfg, TLS: p.clientTLS(b, p.serverName), Port: f.port}
	first := push.Push(context.Background(), req)
	if first.Programmed != 1 {
		b.Fatalf("first push: %+v", first)
	}
	var sent int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req.Config.Tables = slices.Clone(tables)
		req.Config.Tables[i%benchRoutes] = benchTable(i%benchRoutes, i+1)
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 1 {
			b.Fatalf("got %+v", res)
		}
		sent = res.Bytes
	}
	b.ReportMetric(float64(sent), "bytes/push")
	b.ReportMetric(float64(first.Bytes), "full-bytes")
	b.Logf("%d routes: a one-route change sent %d bytes; the whole config is %d bytes (%d of them the frame)", benchRoutes, sent, first.Bytes, len(frameJSON))
}

// benchTable is the host table of route i, its backend in version v.
func benchTable(i, v int) caddyjson.HostTable {
	routes := fmt.Sprintf(`[{"match":[{"path_regexp":{"name":"p","pattern":"^/app-%d(/(.*))?$"}}],`+
		`"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"svc-%d.ns-%d.svc.cluster.local:8080"},{"dial":"svc-%d-canary.ns-%d.svc.cluster.local:8080"}],`+
		`"load_balancing":{"selection_policy":{"policy":"gateway_smooth","key":"HTTPRoute ns-%d/route-%d/rule/0","weights":[90,10]}}}],"terminal":true}]`,
		i, i+v, i%10, i+v, i%10, i%10, i)
	sum := sha256.Sum256([]byte(routes))
	return caddyjson.HostTable{
		Table: caddyjson.TableName(80, ""), Host: fmt.Sprintf("route-%d.example.com", i),
		Hash: hex.EncodeToString(sum[:]), Routes: json.RawMessage(routes),
	}
}

// benchFrame is a frame of the size emitted for one HTTP listener: its server with the
// route-table handler, logging, readiness and metrics servers.
func benchFrame() []byte {
	return fmt.Appendf(nil, `{"admin":{"listen":"unix//run/caddy/admin.sock","config":{"persist":false}},`+
		`"logging":{"logs":{"default":{"level":"INFO","encoder":{"format":"json"}}}},`+
		`"apps":{"http":{"grace_period":"30s","servers":{"listener-80":{"listen":[":80"],"routes":[{"handle":[{"handler":"%s","table":"%s"}]}],"automatic_https":{"disable":true}},`+
		`"readiness":{"listen":[":8081"],"routes":[{"match":[{"path":["/ready"]}],"handle":[{"handler":"static_response","status_code":200,"body":"ready"}]}]},`+
		`"metrics":{"listen":[":9090"],"routes":[{"match":[{"path":["/metrics"]}],"handle":[{"handler":"metrics"}]}]}}}}}`,
		caddyjson.RouteTableHandler, caddyjson.TableName(80, ""))
}

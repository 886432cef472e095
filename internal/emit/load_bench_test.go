package emit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
)

// BenchmarkCaddyLoad measures what a pod spends on a route change: the host tables that
// changed, POSTed to the route tables' admin path, and Caddy's load of the config, which
// does nothing when the config is unchanged (the generated routes, BenchmarkTranslateEmit's
// shape).
func BenchmarkCaddyLoad(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			in := generateInput(n)
			benchmarkLoad(b, in, in.HTTPRoutes)
		})
	}
}

// BenchmarkCaddyLoadHostPerRoute is BenchmarkCaddyLoad for the shape of the propagation
// probe: 1,000 routes, each with a hostname of its own and one catch-all rule.
func BenchmarkCaddyLoadHostPerRoute(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
		in := generateInput(1)
		gwNS, port := gwapiv1.Namespace("default"), gwapiv1.PortNumber(8080)
		routes := make([]gwapiv1.HTTPRoute, n)
		for i := range routes {
			routes[i] = gwapiv1.HTTPRoute{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: "ns-0"},
				Spec: gwapiv1.HTTPRouteSpec{
					CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
					Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("r%d.probe.example.com", i))},
					Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
						BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc-0", Port: &port}}}}}},
				},
			}
		}
		benchmarkLoad(b, in, routes)
	})
}

// benchmarkLoad applies to an in-process Caddy, alternately, the configs of in with
// routes and with all of them but the last, as the operator pushes a change: the delta
// of the host tables, then the config.
func benchmarkLoad(b *testing.B, in translator.Input, routes []gwapiv1.HTTPRoute) {
	dir := b.TempDir()
	opts := emit.Options{AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
		ReadinessPort: int32(testports.Port(b)), MetricsPort: int32(testports.Port(b)), InvalidBackendSocket: filepath.Join(dir, "invalid.sock")}
	in.Gateway.Spec.Listeners[0].Port = gwapiv1.PortNumber(testports.Port(b))
	var results [2]emit.Result
	for i := range results {
		in.HTTPRoutes = routes[:len(routes)-i]
		res, err := emit.Emit(translator.Translate(in).IR, opts)
		if err != nil {
			b.Fatal(err)
		}
		results[i] = res
	}
	b.Cleanup(func() { _ = caddy.Stop() })
	loadResult(b, results[0], opts.AdminListen, false)
	sock := filepath.Join(dir, "admin.sock")
	// deltas[i] makes the pod hold results[i] instead of the other.
	deltas := [2]caddyjson.TablesDelta{tablesDelta(results[1], results[0]), tablesDelta(results[0], results[1])}
	i := 1
	for b.Loop() {
		postTables(b, sock, deltas[i%2])
		caddyLoad(b, results[i%2].JSON, false)
		i++
	}
}

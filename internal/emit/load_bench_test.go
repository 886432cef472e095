package emit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
)

// BenchmarkCaddyLoad measures what a pod spends on a new configuration: Caddy's /load of
// the config of the generated routes (BenchmarkTranslateEmit's shape), each iteration
// alternating between two configs that differ in one route.
func BenchmarkCaddyLoad(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			opts := emit.Options{AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
				ReadinessPort: int32(freePort(b)), InvalidBackendSocket: filepath.Join(dir, "invalid.sock")}
			port := gwapiv1.PortNumber(freePort(b))
			var configs [2][]byte
			for i := range configs {
				in := generateInput(n)
				in.Gateway.Spec.Listeners[0].Port = port
				in.HTTPRoutes = in.HTTPRoutes[:n-i] // the second config lacks the last route
				res, err := emit.Emit(translator.Translate(in).IR, opts)
				if err != nil {
					b.Fatal(err)
				}
				configs[i] = res.JSON
			}
			b.Cleanup(func() { _ = caddy.Stop() })
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if err := caddy.Load(configs[i%2], false); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkCaddyLoadHostPerRoute is BenchmarkCaddyLoad for the shape of the propagation
// probe: 1,000 routes, each with a hostname of its own and one catch-all rule.
func BenchmarkCaddyLoadHostPerRoute(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			opts := emit.Options{AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1",
				ReadinessPort: int32(freePort(b)), InvalidBackendSocket: filepath.Join(dir, "invalid.sock")}
			port := gwapiv1.PortNumber(freePort(b))
			var configs [2][]byte
			for k := range configs {
				in := generateInput(1)
				in.Gateway.Spec.Listeners[0].Port = port
				in.HTTPRoutes = nil
				gwNS := gwapiv1.Namespace("default")
				p8080 := gwapiv1.PortNumber(8080)
				for i := range n - k {
					in.HTTPRoutes = append(in.HTTPRoutes, gwapiv1.HTTPRoute{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: "ns-0"},
						Spec: gwapiv1.HTTPRouteSpec{
							CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
							Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("r%d.probe.example.com", i))},
							Rules:           []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc-0", Port: &p8080}}}}}},
						},
					})
				}
				res, err := emit.Emit(translator.Translate(in).IR, opts)
				if err != nil {
					b.Fatal(err)
				}
				configs[k] = res.JSON
			}
			b.Cleanup(func() { _ = caddy.Stop() })
			i := 0
			for b.Loop() {
				if err := caddy.Load(configs[i%2], false); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

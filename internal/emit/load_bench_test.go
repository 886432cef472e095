package emit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
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

package emit_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// BenchmarkTranslateEmit measures translate+emit for generated HTTPRoutes spread over
// 10 namespaces, 2 rules x 2 matches x 2 backends each.
func BenchmarkTranslateEmit(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		in := generateInput(n)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := translator.Translate(in)
				if _, err := emit.Emit(out.IR, emit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStages measures the two stages of BenchmarkTranslateEmit apart: translate,
// and emit of the translated IR.
func BenchmarkStages(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		in := generateInput(n)
		b.Run(fmt.Sprintf("translate/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				translator.Translate(in)
			}
		})
		out := translator.Translate(in)
		b.Run(fmt.Sprintf("emit/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := emit.Emit(out.IR, emit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func generateInput(n int) translator.Input {
	all := gwapiv1.NamespacesFromAll
	in := translator.Input{ControllerName: fixture.ControllerName, Gateway: &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "default"},
		Spec: gwapiv1.GatewaySpec{Listeners: []gwapiv1.Listener{{Name: "http", Port: 80, Protocol: gwapiv1.HTTPProtocolType,
			AllowedRoutes: &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &all}}}}},
	}}
	gwNS := gwapiv1.Namespace("default")
	for ns := range 10 {
		for s := range 2 {
			in.Services = append(in.Services, corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", s), Namespace: fmt.Sprintf("ns-%d", ns)},
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}},
			})
		}
	}
	for i := range n {
		in.HTTPRoutes = append(in.HTTPRoutes, generateRoute(i, gwNS))
	}
	return in
}

func generateRoute(i int, gwNS gwapiv1.Namespace) gwapiv1.HTTPRoute {
	prefix, exactT := gwapiv1.PathMatchPathPrefix, gwapiv1.PathMatchExact
	port := gwapiv1.PortNumber(8080)
	var rules []gwapiv1.HTTPRouteRule
	for r := range 2 {
		p1, p2 := fmt.Sprintf("/r%d/rule%d", i, r), fmt.Sprintf("/r%d/rule%d/exact", i, r)
		rules = append(rules, gwapiv1.HTTPRouteRule{
			Matches: []gwapiv1.HTTPRouteMatch{
				{Path: &gwapiv1.HTTPPathMatch{Type: &prefix, Value: &p1}},
				{Path: &gwapiv1.HTTPPathMatch{Type: &exactT, Value: &p2},
					Headers: []gwapiv1.HTTPHeaderMatch{{Name: "x-tenant", Value: fmt.Sprint(i)}}},
			},
			BackendRefs: []gwapiv1.HTTPBackendRef{
				{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc-0", Port: &port}}},
				{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc-1", Port: &port}}},
			},
		})
	}
	return gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("route-%d", i), Namespace: fmt.Sprintf("ns-%d", i%10)},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
			Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("host-%d.example.com", i%50))},
			Rules:           rules,
		},
	}
}

// BenchmarkStagesHostPerRoute measures translate and emit apart for routes shaped like
// the propagation probe's: each on a hostname of its own, one rule with no match and one
// backend.
func BenchmarkStagesHostPerRoute(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		in := hostPerRouteInput(n)
		b.Run(fmt.Sprintf("translate/routes=%d", n), func(b *testing.B) {
			for b.Loop() {
				translator.Translate(in)
			}
		})
		out := translator.Translate(in)
		b.Run(fmt.Sprintf("emit/routes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := emit.Emit(out.IR, emit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// hostPerRouteInput is n routes shaped like the propagation probe's (see
// BenchmarkStagesHostPerRoute), with the UIDs, generations and resourceVersions the API
// server gives.
func hostPerRouteInput(n int) translator.Input {
	in := generateInput(0)
	gwNS := gwapiv1.Namespace("default")
	port := gwapiv1.PortNumber(8080)
	for i := range in.Services {
		s := &in.Services[i]
		s.UID, s.ResourceVersion = types.UID("svc-"+s.Namespace+"-"+s.Name), "1"
	}
	for i := range n {
		in.HTTPRoutes = append(in.HTTPRoutes, gwapiv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: fmt.Sprintf("ns-%d", i%10),
				UID: types.UID(fmt.Sprintf("route-%d", i)), Generation: 1, ResourceVersion: "1"},
			Spec: gwapiv1.HTTPRouteSpec{
				CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
				Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("r%d.probe.example.com", i))},
				Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{
					{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc-0", Port: &port}}},
				}}},
			},
		})
	}
	return in
}

// BenchmarkOneRouteChange measures the translation and emit of a Gateway after one of
// its routes changed (a new generation), without and with the memos a Gateway's
// reconciles keep (translator.Memo, emit.Memo): what a one-route change costs at 1,000
// and 10,000 routes. The two alternate, one route change each.
func BenchmarkOneRouteChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			plain, memo := hostPerRouteInput(n), hostPerRouteInput(n)
			memo.Memo = translator.NewMemo()
			tables := emit.NewMemo()
			var took [2]time.Duration
			i := 0
			for b.Loop() {
				for k, in := range []*translator.Input{&plain, &memo} {
					start := time.Now()
					in.HTTPRoutes[i%n].Generation++
					opts := emit.Options{}
					if in.Memo != nil {
						opts.Memo = tables
					}
					if _, err := emit.Emit(translator.Translate(*in).IR, opts); err != nil {
						b.Fatal(err)
					}
					took[k] += time.Since(start)
				}
				i++
			}
			b.ReportMetric(float64(took[0].Microseconds())/1000/float64(i), "ms/change-without")
			b.ReportMetric(float64(took[1].Microseconds())/1000/float64(i), "ms/change-with-memos")
		})
	}
}

// BenchmarkMemoHeap reports the heap a Gateway of 10,000 routes holds between
// reconciles (heldByBurst): without memos, the last Result (which the pusher holds);
// with them, the last Result and the memos, built as a burst builds them, 25 new routes
// per translation and emit.
func BenchmarkMemoHeap(b *testing.B) {
	for b.Loop() {
		without, with, err := heldByBurst(10000, 25)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(without/(1<<20), "MiB-without")
		b.ReportMetric(with/(1<<20), "MiB-with-memos")
	}
}

// heldByBurst returns the heap (bytes) held by the Result of one translation and emit of
// n probe-shaped routes without memos, and by the last Result and the memos of
// translations and emits that add the routes step at a time, as a burst does.
func heldByBurst(n, step int) (without, with float64, err error) {
	full := hostPerRouteInput(n)
	base := liveHeap()
	res, err := emit.Emit(translator.Translate(full).IR, emit.Options{})
	if err != nil {
		return 0, 0, err
	}
	without = liveHeap() - base
	runtime.KeepAlive(res)
	res = emit.Result{}
	base = liveHeap()
	in := full
	in.Memo = translator.NewMemo()
	opts := emit.Options{Memo: emit.NewMemo()}
	for k := step; k <= n; k += step {
		in.HTTPRoutes = full.HTTPRoutes[:k]
		if res, err = emit.Emit(translator.Translate(in).IR, opts); err != nil {
			return 0, 0, err
		}
	}
	with = liveHeap() - base
	runtime.KeepAlive(res)
	runtime.KeepAlive(opts.Memo)
	return without, with, nil
}

// liveHeap is the heap in use after a garbage collection, in bytes.
func liveHeap() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

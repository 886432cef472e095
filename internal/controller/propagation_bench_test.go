package controller_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/translator"
)

// BenchmarkRouteToTranslation creates routes one by one next to routes already attached
// to a Gateway (BENCH_ROUTES, default 1,000; one hostname each, as the propagation
// probe's) and reports, per new route, the p50 of: the API server's answer to the create
// ("create-ms"); from the create to the start of the first translation holding the route
// ("translate-start-ms": the watch event, the queue, and the reconcile's reads, applies
// and certificate checks before it translates); and from the create to the route's
// Accepted status ("accepted-ms": also translate, emit, a push to no pods, as envtest runs
// none, and the status write). Every other route is created with the Gateway's memos of
// checked rules and host tables turned off ("accepted-unkept-ms"), for comparison in the
// same run.
func BenchmarkRouteToTranslation(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROUTES")); err == nil {
		n = v
	}
	ctx := context.Background()
	ns := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	class := ns
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(k8s.Create(ctx, newClass(class, controllerName, nil)))
	gw := newGateway(ns, "gw", class)
	must(k8s.Create(ctx, gw))
	must(k8s.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}))
	b.Cleanup(func() {
		_ = k8s.DeleteAllOf(ctx, &gwapiv1.HTTPRoute{}, client.InNamespace(ns))
		_ = k8s.Delete(ctx, gw)
		_ = k8s.Delete(ctx, newClass(class, controllerName, nil))
	})

	var mu sync.Mutex
	seen := map[string]time.Time{} // route → when a translation holding it started
	translations.watch(b, func(in *translator.Input) {
		if in.Gateway.Namespace != ns {
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for i := range in.HTTPRoutes {
			if _, ok := seen[in.HTTPRoutes[i].Name]; !ok {
				seen[in.HTTPRoutes[i].Name] = now
			}
		}
	})
	seenAt := func(name string) (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		at, ok := seen[name]
		return at, ok
	}
	// route is a hostRoute sending everything to the Service echo's port 8080.
	route := func(name string) *gwapiv1.HTTPRoute {
		r, port := hostRoute(ns, "gw", name), gwapiv1.PortNumber(8080)
		r.Spec.Rules = []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
			BackendObjectReference: gwapiv1.BackendObjectReference{Name: "echo", Port: &port}}}}}}
		return r
	}
	waitFor := func(what string, ok func() bool) {
		b.Helper()
		for start := time.Now(); !ok(); time.Sleep(time.Millisecond) {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%s: not within 5 minutes", what)
			}
		}
	}
	accepted := func(name string) bool {
		var rt gwapiv1.HTTPRoute
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &rt); err != nil {
			return false
		}
		return slices.ContainsFunc(rt.Status.Parents, func(p gwapiv1.RouteParentStatus) bool {
			return meta.IsStatusConditionTrue(p.Conditions, string(gwapiv1.RouteConditionAccepted))
		})
	}
	for i := range n {
		must(k8s.Create(ctx, route(fmt.Sprintf("r%d", i))))
	}
	waitFor("the attached routes translated", func() bool { _, ok := seenAt(fmt.Sprintf("r%d", n-1)); return ok })
	waitFor("the last attached route accepted", func() bool { return accepted(fmt.Sprintf("r%d", n-1)) })

	b.ResetTimer()
	// Routes are created one at a time, with the Gateway's memos of checked rules and
	// host tables (KeepMemos) for every other one and without for the others: the same
	// run measures both.
	var creates, starts, accepts, unkept []time.Duration
	defer controller.KeepMemos(true)
	for i := range 40 {
		keep := i%2 == 0
		controller.KeepMemos(keep)
		name := fmt.Sprintf("s%d", i)
		start := time.Now()
		must(k8s.Create(ctx, route(name)))
		created := time.Since(start)
		waitFor(name+" translated", func() bool { _, ok := seenAt(name); return ok })
		at, _ := seenAt(name)
		waitFor(name+" accepted", func() bool { return accepted(name) })
		if !keep {
			unkept = append(unkept, time.Since(start))
			continue
		}
		creates = append(creates, created)
		starts = append(starts, at.Sub(start))
		accepts = append(accepts, time.Since(start))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(creates), "create-ms")
	b.ReportMetric(p50(starts), "translate-start-ms")
	b.ReportMetric(p50(accepts), "accepted-ms")
	b.ReportMetric(p50(unkept), "accepted-unkept-ms")
}

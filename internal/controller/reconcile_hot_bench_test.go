package controller

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// benchSizes are the numbers of routes of a Gateway the reconcile benchmarks measure.
var benchSizes = []int{1000, 10000}

// BenchmarkBackendKeys measures what a Gateway's reconcile spends collecting the
// backend Services of its routes when none of them changed, as every reconcile but
// the one of the changed route does.
func BenchmarkBackendKeys(b *testing.B) {
	gw := types.NamespacedName{Namespace: "default", Name: "gw"}
	for _, n := range benchSizes {
		r := &GatewayReconciler{}
		routes := []kindRoutes{{kind: httpRouteKind, items: benchHTTPRoutes(n)}}
		r.backends.keys(gw, routes, nil)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.backends.keys(gw, routes, nil)
			}
		})
	}
}

// BenchmarkWantParents measures what a Gateway's reconcile spends stating the parent
// entries of its routes when none of them changed: the translation's statuses in its
// order, the routes' keys in the cache's.
func BenchmarkWantParents(b *testing.B) {
	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}}
	for _, n := range benchSizes {
		r := &GatewayReconciler{RouteStatus: &RouteStatusReconciler{}}
		statuses, keys := benchRouteStatuses(n)
		r.wantParents(gw, nil, "HTTPRoute", statuses, keys)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.wantParents(gw, nil, "HTTPRoute", statuses, keys)
			}
		})
	}
}

// BenchmarkWantParentsOneNew measures what a Gateway's reconcile spends stating the
// parent entries of its routes when one route came or went before all the others.
func BenchmarkWantParentsOneNew(b *testing.B) {
	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}}
	for _, n := range benchSizes {
		r := &GatewayReconciler{RouteStatus: &RouteStatusReconciler{}}
		statuses, keys := benchRouteStatuses(n)
		with := append([]translator.RouteStatus{{Kind: "HTTPRoute", Namespace: "a-first", Name: "new", Parents: benchParents()}}, statuses...)
		withKeys := append([]client.ObjectKey{{Namespace: "a-first", Name: "new"}}, keys...)
		r.wantParents(gw, nil, "HTTPRoute", statuses, keys)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					r.wantParents(gw, nil, "HTTPRoute", with, withKeys)
				} else {
					r.wantParents(gw, nil, "HTTPRoute", statuses, keys)
				}
			}
		})
	}
}

// benchHTTPRoutes are n routes, each sending traffic to one of a hundred Services.
func benchHTTPRoutes(n int) []client.Object {
	out := make([]client.Object, n)
	for i := range n {
		port := gwapiv1.PortNumber(8080)
		out[i] = &gwapiv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: fmt.Sprintf("ns-%d", i%10), Name: fmt.Sprintf("route-%d", i),
				UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)), Generation: 1,
			},
			Spec: gwapiv1.HTTPRouteSpec{Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
				BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(fmt.Sprintf("svc-%d", i%100)), Port: &port},
			}}}}}},
		}
	}
	return out
}

// benchRouteStatuses are the statuses of n routes as the translation orders them, and
// their keys in another order, as the cache lists them.
func benchRouteStatuses(n int) ([]translator.RouteStatus, []client.ObjectKey) {
	statuses := make([]translator.RouteStatus, n)
	keys := make([]client.ObjectKey, n)
	for i := range n {
		key := benchRouteKey(i)
		statuses[i] = translator.RouteStatus{Kind: key.Kind, Namespace: key.Namespace, Name: key.Name, Parents: benchParents()}
		keys[i] = client.ObjectKey{Namespace: key.Namespace, Name: key.Name}
	}
	slices.SortFunc(statuses, func(a, b translator.RouteStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return statuses, keys
}

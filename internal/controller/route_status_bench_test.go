package controller

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// BenchmarkWantUnchanged measures what a Gateway's reconcile spends stating the parent
// entries of routes whose entries did not change, as every reconcile does for every route
// it did not change.
func BenchmarkWantUnchanged(b *testing.B) {
	gw := types.NamespacedName{Namespace: "default", Name: "gw"}
	for _, n := range []int{1000, 10000} {
		r := &RouteStatusReconciler{}
		parents := make([][]gwapiv1.RouteParentStatus, n)
		for i := range n {
			parents[i] = benchParents()
			r.Want(benchRouteKey(i), gw, parents[i])
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range n {
					r.Want(benchRouteKey(i), gw, parents[i])
				}
			}
		})
	}
}

func benchRouteKey(i int) routeKey {
	return routeKey{Kind: "HTTPRoute", Namespace: fmt.Sprintf("ns-%d", i%10), Name: fmt.Sprintf("route-%d", i)}
}

func benchParents() []gwapiv1.RouteParentStatus {
	ns := gwapiv1.Namespace("default")
	t := metav1.Now()
	cond := func(typ, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: "fine", ObservedGeneration: 1, LastTransitionTime: t}
	}
	return []gwapiv1.RouteParentStatus{{
		ParentRef:      gwapiv1.ParentReference{Name: "gw", Namespace: &ns},
		ControllerName: "caddygateway.io/gateway-controller",
		Conditions:     []metav1.Condition{cond("Accepted", "Accepted"), cond("ResolvedRefs", "ResolvedRefs")},
	}}
}

package translator

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// pendingRoute is a route of any kind waiting to be attached.
type pendingRoute struct {
	kind   string
	meta   *metav1.ObjectMeta
	attach func() (RouteStatus, bool)
}

// routesInAttachOrder returns every route of the input, oldest first (then by
// namespace/name, then kind). Attaching in this order makes the HTTPRoute/GRPCRoute
// hostname conflict rule a first-come check: the route attached first wins.
func (t *translation) routesInAttachOrder() []pendingRoute {
	out := make([]pendingRoute, 0, len(t.in.HTTPRoutes)+len(t.in.GRPCRoutes))
	for i := range t.in.HTTPRoutes {
		r := &t.in.HTTPRoutes[i]
		out = append(out, pendingRoute{kind: kindHTTPRoute, meta: &r.ObjectMeta,
			attach: func() (RouteStatus, bool) { return t.attachHTTPRoute(r) }})
	}
	for i := range t.in.GRPCRoutes {
		r := &t.in.GRPCRoutes[i]
		out = append(out, pendingRoute{kind: kindGRPCRoute, meta: &r.ObjectMeta,
			attach: func() (RouteStatus, bool) { return t.attachGRPCRoute(r) }})
	}
	slices.SortFunc(out, func(a, b pendingRoute) int {
		// Not cmp.Or: it would compare every field on each of the n log n calls.
		if c := a.meta.CreationTimestamp.Compare(b.meta.CreationTimestamp.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.meta.Namespace, b.meta.Namespace); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.meta.Name, b.meta.Name), cmp.Compare(a.kind, b.kind))
	})
	return out
}

// compareRouteStatuses orders route statuses by kind, namespace and name.
func compareRouteStatuses(a, b RouteStatus) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// attachGRPCRoute attaches a GRPCRoute like an HTTPRoute: same parentRef, allowedRoutes
// and hostname rules, its own rule conversion and precedence.
func (t *translation) attachGRPCRoute(r *gwapiv1.GRPCRoute) (RouteStatus, bool) {
	return t.attachRoute(routeRef{kind: kindGRPCRoute, meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames,
		parentRefs: r.Spec.ParentRefs}, t.checkGRPCRules(r))
}

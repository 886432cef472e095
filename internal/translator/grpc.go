package translator

import (
	"cmp"
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// pendingRoute is a route of any kind waiting to be attached, with its sort key.
type pendingRoute struct {
	kind    string
	meta    *metav1.ObjectMeta
	http    *gwapiv1.HTTPRoute
	grpc    *gwapiv1.GRPCRoute
	created time.Time
	// ns is the rank of meta.Namespace among the namespaces of the pending routes.
	ns   int32
	name string
}

// attach attaches r and returns its status entries (see attachHTTPRoute).
func (t *translation) attach(r *pendingRoute) (RouteStatus, bool) {
	if r.http != nil {
		return t.attachHTTPRoute(r.http)
	}
	return t.attachGRPCRoute(r.grpc)
}

// routesInAttachOrder returns the routes of the input with a parentRef to the Gateway,
// oldest first (then by namespace/name, then kind). Attaching in this order makes the
// HTTPRoute/GRPCRoute hostname conflict rule a first-come check: the route attached
// first wins. Routes without such a parentRef would attach nowhere and get no status.
func (t *translation) routesInAttachOrder() []pendingRoute {
	out := make([]pendingRoute, 0, len(t.in.HTTPRoutes)+len(t.in.GRPCRoutes))
	nsRank := map[string]int32{}
	add := func(r pendingRoute, refs []gwapiv1.ParentReference) {
		if !slices.ContainsFunc(refs, func(ref gwapiv1.ParentReference) bool { return t.refersToGateway(r.meta.Namespace, ref) }) {
			return
		}
		r.created, r.name = r.meta.CreationTimestamp.Time, r.meta.Name
		nsRank[r.meta.Namespace] = 0
		out = append(out, r)
	}
	for i := range t.in.HTTPRoutes {
		r := &t.in.HTTPRoutes[i]
		add(pendingRoute{kind: kindHTTPRoute, meta: &r.ObjectMeta, http: r}, r.Spec.ParentRefs)
	}
	for i := range t.in.GRPCRoutes {
		r := &t.in.GRPCRoutes[i]
		add(pendingRoute{kind: kindGRPCRoute, meta: &r.ObjectMeta, grpc: r}, r.Spec.ParentRefs)
	}
	// Namespaces are few: compare their ranks rather than the strings.
	names := slices.Sorted(maps.Keys(nsRank))
	for i, ns := range names {
		nsRank[ns] = int32(i)
	}
	for i := range out {
		out[i].ns = nsRank[out[i].meta.Namespace]
	}
	slices.SortFunc(out, func(a, b pendingRoute) int {
		// Not cmp.Or: it would compare every field on each of the n log n calls.
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		if a.ns != b.ns {
			return cmp.Compare(a.ns, b.ns)
		}
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.kind, b.kind))
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

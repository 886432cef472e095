package translator

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// pendingRoute is a route of any kind waiting to be attached.
type pendingRoute struct {
	kind string
	meta *metav1.ObjectMeta
	http *gwapiv1.HTTPRoute
	grpc *gwapiv1.GRPCRoute
	// age is the rank of the route in (creation time, namespace, name) order: routes
	// equal there (an HTTPRoute and a GRPCRoute of one name) share it.
	age int32
	// checked holds the converted rules (checkInOrder).
	checked *checkedRules
}

// attach attaches r to the listeners its parentRefs to this Gateway select and returns
// its status entries; ok is false when no parentRef names the Gateway. GRPCRoutes
// attach like HTTPRoutes (same parentRef, allowedRoutes and hostname rules), with rules
// of their own.
func (t *translation) attach(r *pendingRoute) (RouteStatus, bool) {
	if h := r.http; h != nil {
		return t.attachRoute(routeRef{kind: kindHTTPRoute, meta: &h.ObjectMeta, hostnames: h.Spec.Hostnames,
			parentRefs: h.Spec.ParentRefs, age: r.age}, r.checked)
	}
	g := r.grpc
	return t.attachRoute(routeRef{kind: kindGRPCRoute, meta: &g.ObjectMeta, hostnames: g.Spec.Hostnames,
		parentRefs: g.Spec.ParentRefs, age: r.age}, r.checked)
}

// attachKey is what the attach order compares of a pending route, copied next to the
// others so that sorting thousands of routes does not visit each route every time.
type attachKey struct {
	// sec and rest are the creation time (Unix seconds; nanoseconds<<32) and the rank
	// of the namespace among the namespaces of the pending routes, packed as integers.
	sec  int64
	rest uint64
	name string
	kind string
}

// compareAttachKeys orders attach keys by creation time, namespace, name and kind.
func compareAttachKeys(a, b *attachKey) int {
	// Not cmp.Or: it would compare every field on each of the n log n calls.
	if a.sec != b.sec {
		return cmp.Compare(a.sec, b.sec)
	}
	if a.rest != b.rest {
		return cmp.Compare(a.rest, b.rest)
	}
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return strings.Compare(a.kind, b.kind)
}

// routesInAttachOrder returns the routes of the input with a parentRef to the Gateway,
// oldest first (then by namespace/name, then kind). Attaching in this order makes the
// HTTPRoute/GRPCRoute hostname conflict rule a first-come check: the route attached
// first wins. Routes without such a parentRef would attach nowhere and get no status.
func (t *translation) routesInAttachOrder() []pendingRoute {
	return t.inAttachOrder(t.pendingRoutes())
}

// pendingRoutes returns the routes of the input with a parentRef to the Gateway, in
// input order.
func (t *translation) pendingRoutes() []pendingRoute {
	routes := make([]pendingRoute, 0, len(t.in.HTTPRoutes)+len(t.in.GRPCRoutes))
	add := func(r pendingRoute, refs []gwapiv1.ParentReference) {
		if slices.ContainsFunc(refs, func(ref gwapiv1.ParentReference) bool { return t.refersToGateway(r.meta.Namespace, ref) }) {
			routes = append(routes, r)
		}
	}
	for i := range t.in.HTTPRoutes {
		r := &t.in.HTTPRoutes[i]
		add(pendingRoute{kind: kindHTTPRoute, meta: &r.ObjectMeta, http: r}, r.Spec.ParentRefs)
	}
	for i := range t.in.GRPCRoutes {
		r := &t.in.GRPCRoutes[i]
		add(pendingRoute{kind: kindGRPCRoute, meta: &r.ObjectMeta, grpc: r}, r.Spec.ParentRefs)
	}
	return routes
}

// inAttachOrder sorts routes (pendingRoutes) oldest first, then by namespace/name, then
// kind, and ranks their age.
func (t *translation) inAttachOrder(routes []pendingRoute) []pendingRoute {
	nsRank := map[string]int32{}
	n := 0
	for i := range routes {
		nsRank[routes[i].meta.Namespace] = 0
		n += len(routes[i].meta.Name)
	}
	// Namespaces are few: compare their ranks rather than the strings.
	for i, ns := range slices.Sorted(maps.Keys(nsRank)) {
		nsRank[ns] = int32(i)
	}
	// The names are copied into one string, so that comparing them does not reach
	// into every route's object.
	var names strings.Builder
	names.Grow(n)
	keys := make([]attachKey, len(routes))
	order := make([]int32, len(routes))
	for i := range routes {
		m := routes[i].meta
		created := m.CreationTimestamp.Time
		keys[i] = attachKey{sec: created.Unix(), rest: uint64(created.Nanosecond())<<32 | uint64(nsRank[m.Namespace]),
			name: m.Name, kind: routes[i].kind}
		names.WriteString(m.Name)
		order[i] = int32(i)
	}
	all, at := names.String(), 0
	for i := range keys {
		keys[i].name = all[at : at+len(keys[i].name)]
		at += len(keys[i].name)
	}
	slices.SortFunc(order, func(i, j int32) int { return compareAttachKeys(&keys[i], &keys[j]) })
	out := make([]pendingRoute, len(routes))
	for i, j := range order {
		out[i] = routes[j]
		if i > 0 {
			out[i].age = out[i-1].age
			if a, b := &keys[order[i-1]], &keys[j]; a.sec != b.sec || a.rest != b.rest || a.name != b.name {
				out[i].age++
			}
		}
	}
	return out
}

// compareRouteStatuses orders route statuses by kind, namespace and name.
func compareRouteStatuses(a, b RouteStatus) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

package translator

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeKind is one row of the table of route kinds: all that the kind-neutral core
// (pending routes, attach order, checking, attaching, a listener's supported kinds)
// knows of a kind. A kind's own files hold its row and the conversion of its rules; a
// new kind is an Input list, a row and such files.
type routeKind struct {
	// name is the kind as parentRefs, allowedRoutes, ReferenceGrants and statuses name it.
	name string
	// protocols are the listener protocols that serve the kind.
	protocols []gwapiv1.ProtocolType
	// count is the number of the input's routes of the kind.
	count func(in *Input) int
	// route returns what attaching needs of the input's i-th route of the kind.
	route func(in *Input, i int) routeRef
	// check converts and validates the rules of the input's i-th route of the kind.
	check func(t *translation, i int) *checkedRules
}

// routeKinds is the table of the route kinds the translator serves, in the order of
// Input's route lists; the core reads a route's kind only through these rows.
var routeKinds = [...]*routeKind{&httpRouteKind, &grpcRouteKind, &tlsRouteKind, &tcpRouteKind, &udpRouteKind}

// kindsServedOn returns the names of the route kinds a listener of protocol p serves.
func kindsServedOn(p gwapiv1.ProtocolType) []gwapiv1.Kind {
	var out []gwapiv1.Kind
	for _, k := range routeKinds {
		if slices.Contains(k.protocols, p) {
			out = append(out, gwapiv1.Kind(k.name))
		}
	}
	return out
}

// routeRef is what attaching needs of a route of any kind.
type routeRef struct {
	kind       *routeKind
	meta       *metav1.ObjectMeta
	hostnames  []gwapiv1.Hostname
	parentRefs []gwapiv1.ParentReference
	// age ranks the route in attach order (pendingRoute.age).
	age int32
}

// pendingRoute is a route of any kind waiting to be attached: small, since large
// tables sort thousands of them (the rest of the route is asked of its kind).
type pendingRoute struct {
	kind *routeKind
	meta *metav1.ObjectMeta
	// index is the route's position in the input's list of its kind.
	index int32
	// age is the rank of the route in (creation time, namespace, name) order: routes
	// equal there (an HTTPRoute and a GRPCRoute of one name) share it.
	age int32
	// checked holds the converted rules (checkInOrder).
	checked *checkedRules
}

// attach attaches r to the listeners its parentRefs to this Gateway select and returns
// its status entries; ok is false when no parentRef names the Gateway. Routes of every
// kind attach alike (same parentRef, allowedRoutes and hostname rules), with rules of
// their own.
func (t *translation) attach(r *pendingRoute) (RouteStatus, bool) {
	ref := r.kind.route(&t.in, int(r.index))
	ref.kind, ref.age = r.kind, r.age
	return t.attachRoute(&ref, r.checked)
}

// check converts and validates the rules of r by its kind, and names the kind in the
// rules' sources.
func (t *translation) check(r *pendingRoute) *checkedRules {
	c := r.kind.check(t, int(r.index))
	for i := range c.sources {
		c.sources[i].Kind = r.kind.name
	}
	return c
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

// pendingRoutes returns the routes of the input with a parentRef to the Gateway or to
// one of the ListenerSets that name it, in input order.
func (t *translation) pendingRoutes() []pendingRoute {
	n := 0
	for _, k := range routeKinds {
		n += k.count(&t.in)
	}
	routes := make([]pendingRoute, 0, n)
	for _, k := range routeKinds {
		for i := range k.count(&t.in) {
			r := k.route(&t.in, i)
			if slices.ContainsFunc(r.parentRefs, func(ref gwapiv1.ParentReference) bool {
				_, ok := t.parentScope(r.meta.Namespace, ref)
				return ok
			}) {
				routes = append(routes, pendingRoute{kind: k, meta: r.meta, index: int32(i)})
			}
		}
	}
	return routes
}

// kindsMayConflict reports whether the input has routes of more than one kind: only
// then are hostname claims recorded and checked (conflictingClaim).
func kindsMayConflict(in *Input) bool {
	kinds := 0
	for _, k := range routeKinds {
		if k.count(in) > 0 {
			kinds++
		}
	}
	return kinds > 1
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
			name: m.Name, kind: routes[i].kind.name}
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

package translator

import (
	"slices"

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
	// memoized says that checking reads nothing of the input but the route, Services and
	// ReferenceGrants (and BackendTLSPolicies, which turn a Memo off): a Memo keeps the
	// kind's checked rules.
	memoized bool
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
	// statusRank is the position of the route's status in Output.Routes, by kind, then
	// namespace/name (inAttachOrder).
	statusRank int32
	// checked holds the converted rules (checkInOrder); kept says they came from the
	// Memo.
	checked *checkedRules
	kept    bool
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

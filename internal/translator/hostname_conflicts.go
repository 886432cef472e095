package translator

import (
	"fmt"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RouteReasonHostnameConflict is the Accepted=False reason of a route rejected because
// a route of the other kind (HTTPRoute or GRPCRoute) already holds an intersecting
// hostname on the same listener.
const RouteReasonHostnameConflict gwapiv1.RouteConditionReason = "HostnameConflict"

// hostClaim is a route attached to a listener with its effective hostnames there.
type hostClaim struct {
	kind, namespace, name string
	hostnames             []string
}

// conflictingClaim returns a route of the other kind among HTTPRoute and GRPCRoute
// attached to l whose hostnames intersect hosts, or nil.
//
// The GRPCRoute spec (hostnames): when an HTTPRoute and a GRPCRoute attached to one
// listener have intersecting hostnames, an implementation may reject one of them and
// then must accept exactly one: the oldest, then the first by "{namespace}/{name}".
// This implementation rejects: the two kinds have separate precedence rules that must
// not be merged, and one Caddy route table per host cannot order them both. Routes are
// attached oldest first (routesInAttachOrder), so the claim already present wins.
//
// The result is the first such claim in attach order. With only exact hosts to check
// (the common case) it is found through claimIdx: the first claim of each other kind
// holding each host, and the few claims with wildcard or catch-all hostnames; a
// listener with claims of one kind only is answered at once.
func (l *listener) conflictingClaim(kind string, hosts []string) *hostClaim {
	x := &l.claimIdx
	if x.count[kind] == len(l.claims) {
		return nil
	}
	if !slices.ContainsFunc(hosts, isPatternHost) {
		best := -1
		for k := range x.count {
			if k == kind {
				continue
			}
			for _, b := range hosts {
				if i, ok := x.firstExact[claimKey{kind: k, host: b}]; ok && (best < 0 || i < best) {
					best = i
				}
			}
		}
		for _, i := range x.patterns {
			if best >= 0 && i > best {
				break
			}
			if c := &l.claims[i]; c.kind != kind && claimIntersects(c, hosts) {
				best = i
				break
			}
		}
		if best < 0 {
			return nil
		}
		return &l.claims[best]
	}
	for i := range l.claims {
		if c := &l.claims[i]; c.kind != kind && claimIntersects(c, hosts) {
			return c
		}
	}
	return nil
}

// claimIndex indexes a listener's claims for conflictingClaim.
type claimIndex struct {
	// count is the number of claims of each kind.
	count map[string]int
	// firstExact is the first claim of a kind holding an exact hostname.
	firstExact map[claimKey]int
	// patterns are the claims holding a wildcard or catch-all hostname, in order.
	patterns []int
}

type claimKey struct{ kind, host string }

// addClaim records c after the claims already attached.
func (l *listener) addClaim(c hostClaim) {
	x := &l.claimIdx
	if x.count == nil {
		x.count, x.firstExact = map[string]int{}, map[claimKey]int{}
	}
	i := len(l.claims)
	l.claims = appendDoubling(l.claims, c)
	x.count[c.kind]++
	pattern := false
	for _, h := range c.hostnames {
		if isPatternHost(h) {
			pattern = true
			continue
		}
		if _, ok := x.firstExact[claimKey{kind: c.kind, host: h}]; !ok {
			x.firstExact[claimKey{kind: c.kind, host: h}] = i
		}
	}
	if pattern {
		x.patterns = append(x.patterns, i)
	}
}

// isPatternHost reports whether an effective hostname matches more than itself.
func isPatternHost(h string) bool { return h == "" || strings.HasPrefix(h, "*") }

func claimIntersects(c *hostClaim, hosts []string) bool {
	for _, a := range c.hostnames {
		for _, b := range hosts {
			if _, ok := intersectHost(a, b); ok {
				return true
			}
		}
	}
	return false
}

// lostListener is a listener a route could not attach to because of a hostname conflict.
type lostListener struct {
	name string
	to   *hostClaim
}

// partialConflictMessage is the Accepted=True message of a parent entry whose route
// attached to some of its listeners but lost a hostname conflict on the others (the
// entry is accepted: the route serves there); "" when it lost none.
func partialConflictMessage(kind string, lost []lostListener) string {
	if len(lost) == 0 {
		return ""
	}
	parts := make([]string, len(lost))
	for i, l := range lost {
		parts[i] = fmt.Sprintf("listener %q (hostnames intersect those of %s %s/%s)", l.name, l.to.kind, l.to.namespace, l.to.name)
	}
	return fmt.Sprintf("Route is accepted, but not attached to %s: an HTTPRoute and a GRPCRoute cannot share a "+
		"hostname on one listener, and the older route (then the first by namespace/name) is kept; this %s serves "+
		"on the other listeners of the parent", strings.Join(parts, ", "), kind)
}

func conflictMessage(kind string, c *hostClaim) string {
	return fmt.Sprintf("hostnames intersect those of %s %s/%s on every listener this parentRef selects that allows the %s; "+
		"an HTTPRoute and a GRPCRoute cannot share a hostname on one listener, and the older route "+
		"(then the first by namespace/name) is kept", c.kind, c.namespace, c.name, kind)
}

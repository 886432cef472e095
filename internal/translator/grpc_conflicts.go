package translator

import (
	"fmt"

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
func (l *listener) conflictingClaim(kind string, hosts []string) *hostClaim {
	for i := range l.claims {
		c := &l.claims[i]
		if c.kind == kind {
			continue
		}
		for _, a := range c.hostnames {
			for _, b := range hosts {
				if _, ok := intersectHost(a, b); ok {
					return c
				}
			}
		}
	}
	return nil
}

func conflictMessage(kind string, c *hostClaim) string {
	return fmt.Sprintf("hostnames intersect those of %s %s/%s on every listener this %s may attach to; "+
		"an HTTPRoute and a GRPCRoute cannot share a hostname on one listener, and the older route "+
		"(then the first by namespace/name) is kept", c.kind, c.namespace, c.name, kind)
}

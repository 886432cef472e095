package translator

import (
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

const kindTCPRoute = "TCPRoute"

// tcpRouteKind is the row of TCPRoutes in the table of route kinds: they attach to TCP
// listeners only, have no hostnames and no matches, and proxy every connection of the
// listener to the weighted backends of their one rule.
var tcpRouteKind = routeKind{
	name:      kindTCPRoute,
	protocols: []gwapiv1.ProtocolType{gwapiv1.TCPProtocolType},
	count:     func(in *Input) int { return len(in.TCPRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.TCPRoutes[i]
		return routeRef{meta: &r.ObjectMeta, parentRefs: r.Spec.ParentRefs}
	},
	check: func(t *translation, i int) *checkedRules { return t.checkTCPRules(&t.in.TCPRoutes[i]) },
}

// tcpBackends are the backendRules of TCPRoutes: bytes are proxied as they come, so any
// appProtocol of the Service port will do (backends of one rule need not agree on it),
// and a share without a usable backend has its
// connections closed (the unavailable status is not sent anywhere).
var tcpBackends = backendRules{kind: kindTCPRoute, protocol: ir.ProtocolTCP, anyAppProtocol: true, unavailable: tcpUnavailable}

// tcpUnavailable marks a TCP rule without a usable backend (ir.Action.DirectStatus):
// its connections are closed.
const tcpUnavailable = 503

// checkTCPRules converts and validates the rules of a TCPRoute.
func (t *translation) checkTCPRules(r *gwapiv1.TCPRoute) *checkedRules {
	return t.checkLayer4Rules(&r.ObjectMeta, kindTCPRoute, &tcpBackends, len(r.Spec.Rules),
		func(i int) (*gwapiv1.SectionName, []gwapiv1.BackendRef) {
			return r.Spec.Rules[i].Name, r.Spec.Rules[i].BackendRefs
		})
}

package translator

import (
	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

const kindUDPRoute = "UDPRoute"

// udpRouteKind is the row of UDPRoutes in the table of route kinds: they attach to UDP
// listeners only, have no hostnames and no matches, and proxy every session (the
// datagrams of one client address and port) of the listener to the weighted backends
// of their one rule.
var udpRouteKind = routeKind{
	name:      kindUDPRoute,
	protocols: []gwapiv1.ProtocolType{gwapiv1.UDPProtocolType},
	count:     func(in *Input) int { return len(in.UDPRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.UDPRoutes[i]
		return routeRef{meta: &r.ObjectMeta, parentRefs: r.Spec.ParentRefs}
	},
	check: func(t *translation, i int) *checkedRules { return t.checkUDPRules(&t.in.UDPRoutes[i]) },
}

// udpBackends are the backendRules of UDPRoutes: datagrams are proxied as they come,
// so any appProtocol will do, but the Service port must be a UDP one (a Service may
// have a TCP and a UDP port of one number; one of them must be UDP). A share without a
// usable backend has its datagrams dropped.
var udpBackends = backendRules{kind: kindUDPRoute, protocol: ir.ProtocolUDP, anyAppProtocol: true,
	portProtocol: corev1.ProtocolUDP, unavailable: tcpUnavailable}

// checkUDPRules converts and validates the rules of a UDPRoute.
func (t *translation) checkUDPRules(r *gwapiv1.UDPRoute) *checkedRules {
	return t.checkLayer4Rules(&r.ObjectMeta, kindUDPRoute, &udpBackends, len(r.Spec.Rules),
		func(i int) (*gwapiv1.SectionName, []gwapiv1.BackendRef) {
			return r.Spec.Rules[i].Name, r.Spec.Rules[i].BackendRefs
		})
}

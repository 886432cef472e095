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

// checkTCPRules converts and validates the rules of a TCPRoute. The API allows exactly
// one rule; each is converted alike should that change.
func (t *translation) checkTCPRules(r *gwapiv1.TCPRoute) *checkedRules {
	out := &checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs, rules: make([]rule, 0, len(r.Spec.Rules))}
	var bad problems
	for i := range r.Spec.Rules {
		spec := &r.Spec.Rules[i]
		out.addName(i, spec.Name)
		found := len(bad)
		ru := rule{}
		w := t.weightedBackends(weightedBackends{rules: &tcpBackends, a: &ru.action, st: out, ruleIdx: i, bad: &bad}, len(spec.BackendRefs))
		for j := range spec.BackendRefs {
			w.add(r.Namespace, &spec.BackendRefs[j], j)
		}
		w.finish()
		bad.nameRule(found, spec.Name)
		out.rules = append(out.rules, ru)
	}
	if len(r.Spec.Rules) == 0 {
		bad.addf("rules: a TCPRoute needs one rule")
	}
	out.finish(t, bad, r.Namespace, r.Name)
	return out
}

// layer4Server is the server of a programmable TCP or UDP listener. Only the oldest
// route attached to the listener is served: a TCP connection or a UDP session has
// nothing to choose between routes by. The others stay Accepted and counted in
// attachedRoutes, as the Gateway API's conflict rule (oldest wins) and its
// TCPRouteMultipleRoutesAttachment conformance test say.
func layer4Server(l *listener) ir.Layer4Server {
	srv := ir.Layer4Server{Port: l.spec.Port, Listener: string(l.spec.Name)}
	if len(l.routes) == 0 || len(l.routes[0].rules.rules) == 0 {
		return srv
	}
	ar := &l.routes[0]
	srv.Route = ar.rules.sources[0].String()
	srv.Backends = ar.rules.rules[0].action.Backends
	return srv
}

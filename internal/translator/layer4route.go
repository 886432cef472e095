package translator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// checkLayer4Rules converts and validates the n rules of a TCPRoute, UDPRoute or
// TLSRoute (kind), whose backends follow br; ruleAt returns the name and backends of
// rule i. The API allows exactly one rule; each is converted alike should that change.
func (t *translation) checkLayer4Rules(meta *metav1.ObjectMeta, kind string, br *backendRules, n int,
	ruleAt func(i int) (*gwapiv1.SectionName, []gwapiv1.BackendRef)) *checkedRules {
	out := &checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs, rules: make([]rule, 0, n)}
	var bad problems
	for i := range n {
		name, refs := ruleAt(i)
		out.addName(i, name)
		found := len(bad)
		ru := rule{}
		w := t.weightedBackends(weightedBackends{rules: br, a: &ru.action, st: out, ruleIdx: i, bad: &bad}, len(refs))
		for j := range refs {
			w.add(meta.Namespace, &refs[j], j)
		}
		w.finish()
		bad.nameRule(found, name)
		out.rules = append(out.rules, ru)
	}
	if n == 0 {
		bad.addf("rules: a %s needs one rule", kind)
	}
	out.finish(t, bad, meta.Namespace, meta.Name)
	return out
}

// layer4Server is the server of a programmable TCP or UDP listener. Only the oldest
// route attached to the listener is served: a TCP connection or a UDP session has
// nothing to choose between routes by. The others stay Accepted and counted in
// attachedRoutes, as the Gateway API's conflict rule (oldest wins) and its
// TCPRouteMultipleRoutesAttachment conformance test say.
func layer4Server(l *listener) ir.Layer4Server {
	srv := ir.Layer4Server{Port: l.spec.Port, Listener: l.irName()}
	if l.routes.len() == 0 || len(l.routes.at(0).rules.rules) == 0 {
		return srv
	}
	ar := l.routes.at(0)
	srv.Route = ar.rules.sources[0].String()
	srv.Backends = ar.rules.rules[0].action.Backends
	return srv
}

package translator

import (
	"fmt"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

const kindHTTPRoute = "HTTPRoute"

// httpProtocols are the listener protocols that serve HTTPRoutes (and GRPCRoutes).
var httpProtocols = []gwapiv1.ProtocolType{gwapiv1.HTTPProtocolType, gwapiv1.HTTPSProtocolType}

// httpRouteKind is the row of HTTPRoutes in the table of route kinds.
var httpRouteKind = routeKind{
	name:      kindHTTPRoute,
	protocols: httpProtocols,
	count:     func(in *Input) int { return len(in.HTTPRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.HTTPRoutes[i]
		return routeRef{meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames, parentRefs: r.Spec.ParentRefs}
	},
	check:    func(t *translation, i int) *checkedRules { return t.checkHTTPRules(&t.in.HTTPRoutes[i]) },
	memoized: true,
}

// checkHTTPRules converts and validates every rule of an HTTPRoute.
func (t *translation) checkHTTPRules(r *gwapiv1.HTTPRoute) *checkedRules {
	checked := append(t.checked.take(1), checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs, rules: t.rules.take(len(r.Spec.Rules))})
	out := &checked[0]
	var bad problems
	// One stretch of a shared block for the matches of every rule.
	n := 0
	for i := range r.Spec.Rules {
		n += max(len(r.Spec.Rules[i].Matches), 1)
	}
	matches := t.matches.take(n)[:n]
	for i := range r.Spec.Rules {
		spec := &r.Spec.Rules[i]
		k := max(len(spec.Matches), 1)
		ru := rule{matches: matches[:0:k]}
		out.addName(i, spec.Name)
		found := len(bad)
		matches = matches[k:]
		for j := range spec.Matches {
			ru.matches = append(ru.matches, t.convertMatch(&spec.Matches[j], i, j, &bad))
		}
		if len(spec.Matches) == 0 {
			ru.matches = append(ru.matches, ir.Match{PathType: ir.PathPrefix, Path: "/"})
		}
		t.convertFilters(&ru, spec.Filters, i, &bad)
		if ru.rewrite != nil && ru.rewrite.Path != nil || ru.redirect != nil && ru.redirect.Path != nil {
			checkPrefixModifier(&ru, i, &bad)
		}
		if ru.redirect == nil {
			t.resolveBackends(r, spec.BackendRefs, &ru, out, i, &bad)
		}
		t.convertMirrors(r.Namespace, spec.Filters, &ru.action, out, i, &bad)
		ru.action.Timeouts = convertTimeouts(spec.Timeouts, i, &bad)
		ru.action.Retry = convertRetry(spec.Retry, i, &bad)
		checkSessionPersistence(spec.SessionPersistence, i, &bad) //nolint:staticcheck // deprecated in the API, still rejected explicitly
		bad.nameRule(found, spec.Name)
		out.rules = append(out.rules, ru)
	}
	out.finish(t, bad, r.Namespace, r.Name)
	return out
}

// checkPrefixModifier rejects ReplacePrefixMatch on rules with non-prefix matches. A
// rule may carry a redirect and a rewrite (refused elsewhere), either without a path.
func checkPrefixModifier(ru *rule, ruleIdx int, bad *problems) {
	var pms [2]*gwapiv1.HTTPPathModifier
	if ru.redirect != nil {
		pms[0] = ru.redirect.Path
	}
	if ru.rewrite != nil {
		pms[1] = ru.rewrite.Path
	}
	for _, pm := range pms {
		if pm == nil || pm.Type != gwapiv1.PrefixMatchHTTPPathModifier {
			continue
		}
		for _, m := range ru.matches {
			if m.PathType != ir.PathPrefix {
				bad.addf("rules[%d]: ReplacePrefixMatch needs PathPrefix matches, found %s", ruleIdx, m.PathType)
				return
			}
		}
	}
}

// convertMatch converts match j of rule i; problems name it.
func (t *translation) convertMatch(m *gwapiv1.HTTPRouteMatch, i, j int, bad *problems) ir.Match {
	where := matchWhere{i, j}
	out := ir.Match{PathType: ir.PathPrefix, Path: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.PathType = ir.PathMatchType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path = *m.Path.Value
		}
		t.checkPath(&out, where, bad)
	}
	if m.Method != nil {
		out.Method = strings.ToUpper(string(*m.Method))
	}
	if len(m.Headers) > 0 {
		out.Headers = t.stringMatches.take(len(m.Headers))
	}
	for k, h := range m.Headers {
		typ := ir.StringExact
		if h.Type != nil {
			typ = ir.StringMatchType(*h.Type)
		}
		if slices.ContainsFunc(m.Headers[:k], func(o gwapiv1.HTTPHeaderMatch) bool { return strings.EqualFold(string(o.Name), string(h.Name)) }) {
			continue // the spec: only the first entry with a given name counts
		}
		out.Headers = append(out.Headers, t.checkString(typ, string(h.Name), h.Value, where, "headers", bad))
	}
	for k, q := range m.QueryParams {
		typ := ir.StringExact
		if q.Type != nil {
			typ = ir.StringMatchType(*q.Type)
		}
		if slices.ContainsFunc(m.QueryParams[:k], func(o gwapiv1.HTTPQueryParamMatch) bool { return o.Name == q.Name }) {
			continue
		}
		out.Query = append(out.Query, t.checkString(typ, string(q.Name), q.Value, where, "queryParams", bad))
	}
	return out
}

func (t *translation) checkPath(m *ir.Match, where matchWhere, bad *problems) {
	switch m.PathType {
	case ir.PathExact, ir.PathPrefix:
		if !strings.HasPrefix(m.Path, "/") {
			bad.addf("%s.path: value %q must start with /", where, m.Path)
		}
		if m.PathType == ir.PathPrefix && len(m.Path) > 1 {
			m.Path = strings.TrimRight(m.Path, "/")
			if m.Path == "" {
				m.Path = "/"
			}
		}
	case ir.PathRegex:
		if err := t.regexErr(m.Path); err != "" {
			bad.addf("%s.path: invalid regular expression %q: %s", where, m.Path, err)
		}
	default:
		bad.addf("%s.path: type %q is not supported", where, m.PathType)
	}
}

// httpBackends are the backendRules of HTTPRoutes: the Service port's appProtocol
// decides the protocol, its BackendTLSPolicy whether it is spoken over TLS.
var httpBackends = backendRules{kind: kindHTTPRoute, unavailable: 500, backendTLS: true}

// resolveBackends fills an HTTPRoute rule's backends (weightedBackends) with their
// filters; backend RequestRedirect filters are kept apart (addBackendRedirect).
func (t *translation) resolveBackends(r *gwapiv1.HTTPRoute, refs []gwapiv1.HTTPBackendRef, ru *rule, st *checkedRules, ruleIdx int, bad *problems) {
	a := &ru.action
	w := t.weightedBackends(weightedBackends{rules: &httpBackends, a: a, st: st, ruleIdx: ruleIdx, bad: bad}, len(refs))
	for i := range refs {
		ref := &refs[i]
		var filters *ir.BackendFilters
		var redirect *gwapiv1.HTTPRequestRedirectFilter
		if len(ref.Filters) > 0 {
			filters, redirect = t.convertBackendFilters(r.Namespace, ref.Filters, ru, fmt.Sprintf("rules[%d].backendRefs[%d]", ruleIdx, i), st, bad)
		}
		if at, ok := w.add(r.Namespace, &ref.BackendRef, i); ok {
			a.Backends[at].Filters = filters
			if redirect != nil {
				st.addBackendRedirect(ruleIdx, at, redirect)
			}
		}
	}
	w.finish()
}

package translator

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// grpcRank is what GRPCRoute precedence compares for one match.
type grpcRank struct {
	// service and method are the lengths of the matched service and method ("" is 0).
	service, method int
	// regex is true for RegularExpression method matches.
	regex bool
	// headers is the number of header matches.
	headers int
}

// compareGRPCPrecedence orders GRPCRoute matches per the GRPCRoute spec (hostnames are
// ordered by host group before): most characters in the service, then in the method,
// then most header matches; then (our choice for the tie) Exact before
// RegularExpression; then the oldest route, namespace/name, rule and match order.
func compareGRPCPrecedence(a, b *entry) int {
	ga, gb := a.grpc, b.grpc
	return cmp.Or(
		cmp.Compare(gb.service, ga.service),
		cmp.Compare(gb.method, ga.method),
		cmp.Compare(gb.headers, ga.headers),
		cmp.Compare(boolRank(!ga.regex), boolRank(!gb.regex)),
		cmp.Compare(a.age, b.age),
		cmp.Compare(a.src.Index, b.src.Index),
		cmp.Compare(a.match, b.match),
	)
}

const kindGRPCRoute = "GRPCRoute"

// grpcRouteKind is the row of GRPCRoutes in the table of route kinds: they attach
// like HTTPRoutes, to the same listeners (h2c with prior knowledge on cleartext ports,
// h2 by ALPN on TLS ports).
var grpcRouteKind = routeKind{
	name:      kindGRPCRoute,
	protocols: httpProtocols,
	count:     func(in *Input) int { return len(in.GRPCRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.GRPCRoutes[i]
		return routeRef{meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames, parentRefs: r.Spec.ParentRefs}
	},
	check:    func(t *translation, i int) *checkedRules { return t.checkGRPCRules(&t.in.GRPCRoutes[i]) },
	memoized: true,
}

// checkGRPCRules converts and validates every rule of a GRPCRoute.
func (t *translation) checkGRPCRules(r *gwapiv1.GRPCRoute) *checkedRules {
	out := &checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs, rules: make([]rule, 0, len(r.Spec.Rules))}
	var bad problems
	for i := range r.Spec.Rules {
		spec := &r.Spec.Rules[i]
		n := max(len(spec.Matches), 1)
		ru := rule{matches: make([]ir.Match, 0, n), grpc: make([]grpcRank, 0, n)}
		out.addName(i, spec.Name)
		found := len(bad)
		for j := range spec.Matches {
			m, rank := t.convertGRPCMatch(&spec.Matches[j], matchWhere{i, j}, &bad)
			ru.matches, ru.grpc = append(ru.matches, m), append(ru.grpc, rank)
		}
		if len(spec.Matches) == 0 {
			ru.matches, ru.grpc = append(ru.matches, ir.Match{PathType: ir.PathPrefix, Path: "/"}), append(ru.grpc, grpcRank{})
		}
		t.convertGRPCFilters(&ru, r.Namespace, spec.Filters, out, i, &bad)
		t.resolveGRPCBackends(r.Namespace, spec.BackendRefs, &ru.action, out, i, &bad)
		checkSessionPersistence(spec.SessionPersistence, i, &bad) //nolint:staticcheck // deprecated in the API, still rejected explicitly
		bad.nameRule(found, spec.Name)
		out.rules = append(out.rules, ru)
	}
	out.finish(t, bad, r.Namespace, r.Name)
	return out
}

// anySegment matches one non-empty path segment: any gRPC service or method name.
const anySegment = `[^/]+`

// convertGRPCMatch turns a gRPC match into a path match on "/<service>/<method>" (the
// gRPC request path) plus header matches. A match without method matches every request;
// a service alone matches "/<service>/*", a method alone "/*/<method>". Exact matches
// are case-sensitive; regular expressions (RE2) each match a whole service or method.
func (t *translation) convertGRPCMatch(m *gwapiv1.GRPCRouteMatch, where matchWhere, bad *problems) (ir.Match, grpcRank) {
	out := ir.Match{PathType: ir.PathPrefix, Path: "/"}
	var rank grpcRank
	if mm := m.Method; mm != nil {
		typ := gwapiv1.GRPCMethodMatchExact
		if mm.Type != nil {
			typ = *mm.Type
		}
		svc, meth := deref(mm.Service), deref(mm.Method)
		rank = grpcRank{service: len(svc), method: len(meth), regex: typ == gwapiv1.GRPCMethodMatchRegularExpression}
		if svc == "" && meth == "" {
			bad.addf("%s.method: one or both of service and method must be set", where)
		}
		switch typ {
		case gwapiv1.GRPCMethodMatchExact:
			out = exactMethodMatch(svc, meth, where, bad)
		case gwapiv1.GRPCMethodMatchRegularExpression:
			out = t.regexMethodMatch(svc, meth, where, bad)
		default:
			bad.addf("%s.method: match type %q is not supported", where, typ)
		}
	}
	for k, h := range m.Headers {
		typ := ir.StringExact
		if h.Type != nil {
			typ = ir.StringMatchType(*h.Type)
		}
		if slices.ContainsFunc(m.Headers[:k], func(o gwapiv1.GRPCHeaderMatch) bool { return strings.EqualFold(string(o.Name), string(h.Name)) }) {
			continue // the spec: only the first entry with a given name counts
		}
		out.Headers = append(out.Headers, t.checkString(typ, string(h.Name), h.Value, where, "headers", bad))
	}
	rank.headers = len(out.Headers)
	return out, rank
}

func exactMethodMatch(svc, meth string, where matchWhere, bad *problems) ir.Match {
	for _, f := range [...][2]string{{"service", svc}, {"method", meth}} {
		if strings.Contains(f[1], "/") {
			bad.addf("%s.method.%s: %q must not contain /", where, f[0], f[1])
		}
	}
	switch {
	case svc != "" && meth != "":
		return ir.Match{PathType: ir.PathExact, Path: "/" + svc + "/" + meth}
	case svc != "":
		return ir.Match{PathType: ir.PathRegex, Path: "/" + regexp.QuoteMeta(svc) + "/" + anySegment}
	}
	return ir.Match{PathType: ir.PathRegex, Path: "/" + anySegment + "/" + regexp.QuoteMeta(meth)}
}

// regexMethodMatch matches "/<service>/<method>" with each part a regular expression
// of its own. Each part is checked alone (regexErr), then in the path as it is emitted
// (ir.AnchoredRegexp of the whole path), first with the other part matching any
// segment, so that a problem names its field, then with both.
func (t *translation) regexMethodMatch(svc, meth string, where matchWhere, bad *problems) ir.Match {
	part := func(re string) string {
		if re == "" {
			return anySegment
		}
		return "(?:" + re + ")"
	}
	s, m := part(svc), part(meth)
	ok := true
	for _, f := range [...]struct{ field, re, path string }{
		{"service", svc, "/" + s + "/" + anySegment},
		{"method", meth, "/" + anySegment + "/" + m},
	} {
		if f.re == "" {
			continue
		}
		err := t.regexErr(f.re)
		if err == "" {
			err = t.emittedErr(ir.AnchoredRegexp(f.path))
		}
		if err != "" {
			bad.addf("%s.method.%s: invalid regular expression %q: %s", where, f.field, f.re, err)
			ok = false
		}
	}
	path := "/" + s + "/" + m
	if ok && svc != "" && meth != "" {
		if err := t.emittedErr(ir.AnchoredRegexp(path)); err != "" {
			bad.addf("%s.method: service %q and method %q together: %s", where, svc, meth, err)
		}
	}
	return ir.Match{PathType: ir.PathRegex, Path: path}
}

// convertGRPCFilters converts a GRPCRoute rule's filters: the header modifiers and
// RequestMirror (copies over h2c); ExtensionRef is a problem.
func (t *translation) convertGRPCFilters(ru *rule, routeNS string, filters []gwapiv1.GRPCRouteFilter, st *checkedRules, ruleIdx int, bad *problems) {
	for i := range filters {
		f := &filters[i]
		at := fmt.Sprintf("rules[%d].filters[%d]", ruleIdx, i)
		switch f.Type {
		case gwapiv1.GRPCRouteFilterRequestHeaderModifier:
			ru.action.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, at, "requestHeaderModifier", bad)
		case gwapiv1.GRPCRouteFilterResponseHeaderModifier:
			ru.action.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, at, "responseHeaderModifier", bad)
		case gwapiv1.GRPCRouteFilterRequestMirror:
			if m, ok := t.convertMirror(&grpcBackends, routeNS, f.RequestMirror, at, st, bad); ok {
				ru.action.Mirrors = append(ru.action.Mirrors, m)
			}
		default:
			bad.addf("%s: %s", at, unsupportedGRPCFilter(f))
		}
	}
}

// unsupportedGRPCFilter says why a GRPCRoute filter cannot be used.
func unsupportedGRPCFilter(f *gwapiv1.GRPCRouteFilter) string {
	if f.Type == gwapiv1.GRPCRouteFilterExtensionRef {
		ext := "without extensionRef"
		if e := f.ExtensionRef; e != nil {
			ext = fmt.Sprintf("%s/%s %s", e.Group, e.Kind, e.Name)
		}
		return fmt.Sprintf("filter type ExtensionRef (%s) is not supported by this implementation", ext)
	}
	return fmt.Sprintf("filter type %q is not supported for GRPCRoutes by this implementation; "+
		"supported: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror", f.Type)
}

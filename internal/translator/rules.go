package translator

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// checkedRules is a route's rules converted once, independent of the listener.
type checkedRules struct {
	// unsupported is the Accepted=False/UnsupportedValue message; empty when valid.
	unsupported string
	// refReason and refMsg are the route's ResolvedRefs condition.
	refReason gwapiv1.RouteConditionReason
	refMsg    string
	rules     []rule
	// sources name the rules for the Sources of the IR, by rule index.
	sources []ir.RuleSource
	// extra holds what few routes have; nil for the others.
	extra *ruleExtras
}

// addSources names the rules of the route ns/name for the IR's Sources.
func (c *checkedRules) addSources(t *translation, ns, name string) {
	c.sources = t.ruleSources.take(len(c.rules))[:len(c.rules)]
	for i := range c.sources {
		c.sources[i] = ir.RuleSource{Namespace: ns, Name: name, Index: int32(i), RuleName: c.ruleName(i)}
	}
}

// ruleExtras are the parts of checkedRules that most routes do not need.
type ruleExtras struct {
	// names are the rule names (rules[].name, "" for unnamed rules) by rule index;
	// nil when no rule is named.
	names []string
	// backendRedirects are the RequestRedirect filters of backendRefs, by rule index
	// and then by index in the rule's ir.Action.Backends; nil when there are none.
	backendRedirects map[int][]*gwapiv1.HTTPRequestRedirectFilter
}

// extras returns c.extra, creating it.
func (c *checkedRules) extras() *ruleExtras {
	if c.extra == nil {
		c.extra = &ruleExtras{}
	}
	return c.extra
}

// backendRedirects are the backend RequestRedirect filters of rule i (see ruleExtras).
func (c *checkedRules) backendRedirects(i int) []*gwapiv1.HTTPRequestRedirectFilter {
	if c.extra == nil {
		return nil
	}
	return c.extra.backendRedirects[i]
}

// rule is one converted HTTPRoute rule.
type rule struct {
	matches  []ir.Match
	action   ir.Action
	redirect *gwapiv1.HTTPRequestRedirectFilter
	rewrite  *gwapiv1.HTTPURLRewriteFilter
	// grpc ranks each match of a GRPCRoute rule for precedence; nil for HTTPRoutes.
	grpc []grpcRank
}

// problems collects user mistakes in one route, in the order found.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// nameRule prefixes the problems found since index from with the name of the rule
// they were found in, when the rule has one: users who name rules look for the name.
func (p *problems) nameRule(from int, name *gwapiv1.SectionName) {
	if name == nil || *name == "" {
		return
	}
	for i := from; i < len(*p); i++ {
		(*p)[i] = fmt.Sprintf("rule %q: %s", *name, (*p)[i])
	}
}

// httpRouteKind is the row of HTTPRoutes in the table of route kinds.
var httpRouteKind = routeKind{
	name:      kindHTTPRoute,
	protocols: []gwapiv1.ProtocolType{gwapiv1.HTTPProtocolType, gwapiv1.HTTPSProtocolType},
	count:     func(in *Input) int { return len(in.HTTPRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.HTTPRoutes[i]
		return routeRef{meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames, parentRefs: r.Spec.ParentRefs}
	},
	check: func(t *translation, i int) *checkedRules { return t.checkHTTPRules(&t.in.HTTPRoutes[i]) },
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
		if spec.SessionPersistence != nil { //nolint:staticcheck // deprecated in the API, still rejected explicitly
			bad.addf("rules[%d].sessionPersistence: not supported by this implementation", i)
		}
		bad.nameRule(found, spec.Name)
		out.rules = append(out.rules, ru)
	}
	if len(bad) > 0 {
		out.unsupported = strings.Join(bad, "; ")
	}
	out.addSources(t, r.Namespace, r.Name)
	return out
}

// addName records the name of rule i, if it has one.
func (c *checkedRules) addName(i int, name *gwapiv1.SectionName) {
	if name == nil || *name == "" {
		return
	}
	x := c.extras()
	if x.names == nil {
		x.names = make([]string, cap(c.rules))
	}
	x.names[i] = string(*name)
}

// ruleName is the name of rule i, or "".
func (c *checkedRules) ruleName(i int) string {
	if c.extra != nil && i < len(c.extra.names) {
		return c.extra.names[i]
	}
	return ""
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

// isToken reports whether s is an HTTP token (RFC 9110 tchar+), the syntax of header
// and (by our choice) query parameter names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
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

// matchWhere locates a match for problem messages without formatting eagerly.
type matchWhere struct{ rule, match int }

func (w matchWhere) String() string { return fmt.Sprintf("rules[%d].matches[%d]", w.rule, w.match) }

// regexErr says why the user regex re cannot be matched ("" when it can): re must be
// a regular expression on its own, and compile as the data plane compiles it, anchored
// by ir.AnchoredRegexp. Alone, `/b\Q` is valid; anchored, its \Q quotes the closing
// ")$" and Caddy would refuse the whole config. `a)|(b` is invalid alone and, anchored,
// would escape the anchors. Each distinct re is checked once per translation.
func (t *translation) regexErr(re string) string {
	if e, ok := t.regexErrs[re]; ok {
		return e
	}
	e := ""
	if _, err := syntax.Parse(re, syntax.Perl); err != nil {
		e = err.Error()
	} else {
		e = t.emittedErr(ir.AnchoredRegexp(re))
	}
	t.regexErrs[re] = e
	return e
}

// emittedErr compiles pattern, a regexp exactly as it is emitted, and says why it does
// not compile ("" when it does). Each distinct pattern is compiled once per translation.
func (t *translation) emittedErr(pattern string) string {
	if e, ok := t.emittedErrs[pattern]; ok {
		return e
	}
	e := ""
	if _, err := regexp.Compile(pattern); err != nil {
		e = "as matched, " + err.Error()
	}
	t.emittedErrs[pattern] = e
	return e
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

func (t *translation) checkString(typ ir.StringMatchType, name, value string, where matchWhere, field string, bad *problems) ir.StringMatch {
	if !isToken(name) {
		bad.addf("%s.%s: invalid name %q", where, field, name)
	}
	switch typ {
	case ir.StringExact:
	case ir.StringRegex:
		if err := t.regexErr(value); err != "" {
			bad.addf("%s.%s: invalid regular expression %q for %q: %s", where, field, value, name, err)
		}
	default:
		bad.addf("%s.%s: match type %q is not supported", where, field, typ)
	}
	return ir.StringMatch{Type: typ, Name: name, Value: value}
}

// httpBackends are the backendRules of HTTPRoutes: the Service port's appProtocol
// decides the protocol.
var httpBackends = backendRules{kind: kindHTTPRoute, unavailable: 500}

// resolveBackends fills an HTTPRoute rule's backends (weightedBackends) with their
// filters; backend RequestRedirect filters are kept apart (addBackendRedirect).
func (t *translation) resolveBackends(r *gwapiv1.HTTPRoute, refs []gwapiv1.HTTPBackendRef, ru *rule, st *checkedRules, ruleIdx int, bad *problems) {
	a := &ru.action
	w := t.weightedBackends(weightedBackends{rules: &httpBackends, routeNS: r.Namespace, a: a, st: st, ruleIdx: ruleIdx, bad: bad}, len(refs))
	for i := range refs {
		ref := &refs[i]
		var filters *ir.BackendFilters
		var redirect *gwapiv1.HTTPRequestRedirectFilter
		if len(ref.Filters) > 0 {
			filters, redirect = t.convertBackendFilters(r.Namespace, ref.Filters, ru, fmt.Sprintf("rules[%d].backendRefs[%d]", ruleIdx, i), st, bad)
		}
		if at, ok := w.add(&ref.BackendRef, i); ok {
			a.Backends[at].Filters = filters
			if redirect != nil {
				st.addBackendRedirect(ruleIdx, at, redirect)
			}
		}
	}
	w.finish()
}

package translator

import (
	"fmt"
	"regexp"
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
}

// rule is one converted HTTPRoute rule.
type rule struct {
	matches  []ir.Match
	action   ir.Action
	redirect *gwapiv1.HTTPRequestRedirectFilter
	rewrite  *gwapiv1.HTTPURLRewriteFilter
}

// problems collects user mistakes in one route, in the order found.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// checkRules converts and validates every rule of r.
func (t *translation) checkRules(r *gwapiv1.HTTPRoute) checkedRules {
	out := checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs}
	var bad problems
	for i := range r.Spec.Rules {
		spec := &r.Spec.Rules[i]
		ru := rule{}
		for j := range spec.Matches {
			ru.matches = append(ru.matches, convertMatch(&spec.Matches[j], fmt.Sprintf("rules[%d].matches[%d]", i, j), &bad))
		}
		if len(spec.Matches) == 0 {
			ru.matches = []ir.Match{{PathType: ir.PathPrefix, Path: "/"}}
		}
		t.convertFilters(&ru, spec.Filters, fmt.Sprintf("rules[%d]", i), &bad)
		if ru.rewrite != nil && ru.rewrite.Path != nil || ru.redirect != nil && ru.redirect.Path != nil {
			checkPrefixModifier(&ru, fmt.Sprintf("rules[%d]", i), &bad)
		}
		if ru.redirect == nil {
			t.resolveBackends(r, spec.BackendRefs, &ru.action, &out, fmt.Sprintf("rules[%d]", i), &bad)
		}
		out.rules = append(out.rules, ru)
	}
	if len(bad) > 0 {
		out.unsupported = strings.Join(bad, "; ")
	}
	return out
}

// checkPrefixModifier rejects ReplacePrefixMatch on rules with non-prefix matches.
func checkPrefixModifier(ru *rule, where string, bad *problems) {
	var pm *gwapiv1.HTTPPathModifier
	if ru.redirect != nil {
		pm = ru.redirect.Path
	} else {
		pm = ru.rewrite.Path
	}
	if pm.Type != gwapiv1.PrefixMatchHTTPPathModifier {
		return
	}
	for _, m := range ru.matches {
		if m.PathType != ir.PathPrefix {
			bad.addf("%s: ReplacePrefixMatch needs PathPrefix matches, found %s", where, m.PathType)
			return
		}
	}
}

var headerNameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")

// convertMatch converts one match; problems are reported with where as context.
func convertMatch(m *gwapiv1.HTTPRouteMatch, where string, bad *problems) ir.Match {
	out := ir.Match{PathType: ir.PathPrefix, Path: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.PathType = ir.PathMatchType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path = *m.Path.Value
		}
		checkPath(&out, where, bad)
	}
	if m.Method != nil {
		out.Method = strings.ToUpper(string(*m.Method))
	}
	seen := map[string]bool{}
	for _, h := range m.Headers {
		typ := ir.StringExact
		if h.Type != nil {
			typ = ir.StringMatchType(*h.Type)
		}
		key := strings.ToLower(string(h.Name))
		if seen[key] {
			continue // the spec: only the first entry with a given name counts
		}
		seen[key] = true
		out.Headers = append(out.Headers, checkString(typ, string(h.Name), h.Value, where+".headers", bad))
	}
	seenQ := map[string]bool{}
	for _, q := range m.QueryParams {
		typ := ir.StringExact
		if q.Type != nil {
			typ = ir.StringMatchType(*q.Type)
		}
		if seenQ[string(q.Name)] {
			continue
		}
		seenQ[string(q.Name)] = true
		out.Query = append(out.Query, checkString(typ, string(q.Name), q.Value, where+".queryParams", bad))
	}
	return out
}

func checkPath(m *ir.Match, where string, bad *problems) {
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
		if _, err := regexp.Compile(m.Path); err != nil {
			bad.addf("%s.path: invalid regular expression %q: %v", where, m.Path, err)
		}
	default:
		bad.addf("%s.path: type %q is not supported", where, m.PathType)
	}
}

func checkString(typ ir.StringMatchType, name, value, where string, bad *problems) ir.StringMatch {
	if !headerNameRE.MatchString(name) {
		bad.addf("%s: invalid name %q", where, name)
	}
	switch typ {
	case ir.StringExact:
	case ir.StringRegex:
		if _, err := regexp.Compile(value); err != nil {
			bad.addf("%s: invalid regular expression %q for %q: %v", where, value, name, err)
		}
	default:
		bad.addf("%s: match type %q is not supported", where, typ)
	}
	return ir.StringMatch{Type: typ, Name: name, Value: value}
}

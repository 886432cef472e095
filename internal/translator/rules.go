package translator

import (
	"fmt"
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
	// reads are the Services checking looked up (noteService), for the Memo; nil
	// without one.
	reads []nsName
}

// finish completes the checked rules of the route ns/name: bad, the problems found in
// them, become the Accepted=False message, and the rules are named for the IR.
func (c *checkedRules) finish(t *translation, bad problems, ns, name string) {
	if len(bad) > 0 {
		c.unsupported = strings.Join(bad, "; ")
	}
	c.addSources(t, ns, name)
}

// checkSessionPersistence refuses a rule's sessionPersistence, which no kind supports.
func checkSessionPersistence(sp *gwapiv1.SessionPersistence, ruleIdx int, bad *problems) {
	if sp != nil {
		bad.addf("rules[%d].sessionPersistence: not supported by this implementation", ruleIdx)
	}
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

// rule is one converted route rule of any kind; redirect and rewrite are HTTPRoute
// filters, grpc the GRPCRoute precedence.
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

func (w matchWhere) String() string { return fmt.Sprintf("rules[%d].matches[%d]", w.rule, w.match) }

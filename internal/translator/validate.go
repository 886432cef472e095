package translator

import (
	"regexp"
	"regexp/syntax"

	"github.com/caddy-gateway/operator/internal/ir"
)

// matchWhere locates a match for problem messages without formatting eagerly.
type matchWhere struct{ rule, match int }

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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

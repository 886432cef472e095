package ir

import (
	"encoding/json"
	"strconv"
)

// Source names where a route comes from: "<namespace>/<name>/rule/<i>/match/<j>", with
// the rule's name after its index ("rule/<i>:<rule name>") when the rule is named. It
// is spelled out only when asked for (String, the IR's JSON), so that a table of tens of
// thousands of routes does not build as many strings that nobody reads.
type Source struct {
	// Rule is shared by the matches of one rule.
	Rule *RuleSource
	// Match is the index of the match in the rule.
	Match int32
}

// RuleSource is the rule a Source points into.
type RuleSource struct {
	// Namespace and Name identify the route.
	Namespace, Name string
	// Index is the rule's index in the route, Name its name ("" when unnamed).
	Index    int32
	RuleName string
	// Kind is the route's kind ("HTTPRoute", "GRPCRoute", ...), so that routes of two
	// kinds with one namespace and name stay apart; String leaves it out.
	Kind string
}

func (s Source) String() string {
	r := s.Rule
	b := make([]byte, 0, len(r.Namespace)+len(r.Name)+len(r.RuleName)+24)
	b = append(append(append(append(b, r.Namespace...), '/'), r.Name...), "/rule/"...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	if r.RuleName != "" {
		b = append(append(b, ':'), r.RuleName...)
	}
	b = strconv.AppendInt(append(b, "/match/"...), int64(s.Match), 10)
	return string(b)
}

// MarshalJSON writes s as its string.
func (s Source) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// String names the rule: "<namespace>/<name>/rule/<i>", with ":<rule name>" after the
// index when the rule is named.
func (r *RuleSource) String() string {
	s := r.Namespace + "/" + r.Name + "/rule/" + strconv.Itoa(int(r.Index))
	if r.RuleName != "" {
		s += ":" + r.RuleName
	}
	return s
}

package ir

import "strings"

// WriteAnchoredRegexp writes the pattern the data plane compiles for the regular
// expression re of a RegularExpression match (Match.Path, StringMatch.Value): re made
// to match the whole value, "^(?:" + re + ")$". The emitter writes every such pattern
// with it, and the translator compiles exactly its output to refuse a route whose
// pattern the data plane would reject: the two cannot drift apart.
func WriteAnchoredRegexp(b *strings.Builder, re string) {
	b.WriteString("^(?:")
	b.WriteString(re)
	b.WriteString(")$")
}

// AnchoredRegexp is what WriteAnchoredRegexp writes for re.
func AnchoredRegexp(re string) string {
	var b strings.Builder
	b.Grow(len(re) + AnchoredRegexpExtra)
	WriteAnchoredRegexp(&b, re)
	return b.String()
}

// AnchoredRegexpExtra is how many bytes WriteAnchoredRegexp adds to re.
const AnchoredRegexpExtra = len("^(?:") + len(")$")

package emit

import (
	"strings"

	"github.com/caddy-gateway/operator/internal/ir"
)

// patterns builds the regexp patterns of streamed routes (hostRoutes): many short
// strings cut from a few large blocks instead of one allocation each. A pattern handed
// out stays valid: a full block is left to the garbage collector, never written again.
type patterns struct {
	b strings.Builder
}

// patternBlock is the size of one block of patterns.
const patternBlock = 8 << 10

// start makes room for n more bytes and returns where the next pattern begins.
func (p *patterns) start(n int) int {
	if p.b.Cap()-p.b.Len() < n {
		p.b = strings.Builder{}
		p.b.Grow(max(n, patternBlock))
	}
	return p.b.Len()
}

// since returns what was written from at.
func (p *patterns) since(at int) string { return p.b.String()[at:] }

// exact is an anchored regexp matching s literally.
func (p *patterns) exact(s string) string {
	at := p.start(2*len(s) + 2)
	p.b.WriteByte('^')
	p.quoteMeta(s)
	p.b.WriteByte('$')
	return p.since(at)
}

// anchored makes a user regexp match the whole input (ir.WriteAnchoredRegexp, which
// the translator compiles to refuse what Caddy would reject).
func (p *patterns) anchored(re string) string {
	at := p.start(len(re) + ir.AnchoredRegexpExtra)
	ir.WriteAnchoredRegexp(&p.b, re)
	return p.since(at)
}

// prefix matches the path p and anything below it; the groups of the prefixRegexpName
// regexp carry the rest of the path.
func (p *patterns) prefix(path string) string {
	path = strings.TrimSuffix(path, "/")
	at := p.start(2*len(path) + 10)
	p.b.WriteByte('^')
	p.quoteMeta(path)
	p.b.WriteString("(/(.*))?$")
	return p.since(at)
}

// queryVar is the placeholder of the query parameter name.
func (p *patterns) queryVar(name string) string {
	at := p.start(len(name) + 25)
	p.b.WriteString("{http.request.uri.query.")
	p.b.WriteString(name)
	p.b.WriteByte('}')
	return p.since(at)
}

// quoteMeta writes regexp.QuoteMeta(s).
func (p *patterns) quoteMeta(s string) {
	for len(s) > 0 {
		i := 0
		for i < len(s) && !regexpSpecial[s[i]] {
			i++
		}
		p.b.WriteString(s[:i])
		if i == len(s) {
			return
		}
		p.b.WriteByte('\\')
		p.b.WriteByte(s[i])
		s = s[i+1:]
	}
}

// regexpSpecial marks the bytes regexp.QuoteMeta escapes.
var regexpSpecial = func() (t [256]bool) {
	for _, c := range []byte(`\.+*?()|[]{}^$`) {
		t[c] = true
	}
	return t
}()

package emit

import (
	"regexp"
	"strings"
	"testing"
)

// TestPatterns checks the patterns cut from shared blocks against their plain
// definitions, across block boundaries.
func TestPatterns(t *testing.T) {
	inputs := []string{"", "/", "/a/b/", `/x.y+z*?()|[]{}^$\`, "/é/{env.HOME}", strings.Repeat("/seg.", 5000)}
	var p patterns
	var got, want []string
	for range 20 {
		for _, s := range inputs {
			got = append(got, p.exact(s), p.anchored(s), p.prefix(s), p.queryVar(s))
			want = append(want, "^"+regexp.QuoteMeta(s)+"$", "^(?:"+s+")$",
				"^"+regexp.QuoteMeta(strings.TrimSuffix(s, "/"))+"(/(.*))?$", "{http.request.uri.query."+s+"}")
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pattern %d: got %.80q, want %.80q", i, got[i], want[i])
		}
	}
}

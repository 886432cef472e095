package translator

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// TestSortByPrecedenceKey checks the sort by packed keys of a host group against a stable sort
// by comparePrecedence, on random matches full of ties, with routes in attach order
// (some attached twice).
func TestSortByPrecedenceKey(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	for round := range 200 {
		var routes []*metav1.ObjectMeta
		for range 1 + rnd.IntN(12) {
			routes = append(routes, &metav1.ObjectMeta{Namespace: pick("a", "b"), Name: pick("r1", "r2", "r3"),
				CreationTimestamp: metav1.NewTime(time.Unix(int64(rnd.IntN(3)), int64(rnd.IntN(2))))})
		}
		slices.SortStableFunc(routes, compareRouteAge)
		for i := len(routes) - 1; i >= 0; i-- {
			if rnd.IntN(4) == 0 { // the same route again: a second parentRef
				routes = slices.Insert(routes, i, routes[i])
			}
		}
		var entries []entry
		seq := uint64(0)
		for i, r := range routes {
			if i > 0 && compareRouteAge(routes[i-1], r) < 0 {
				seq++
			}
			for rule := range rnd.IntN(3) {
				for match := range 1 + rnd.IntN(3) {
					m := &ir.Match{PathType: []ir.PathMatchType{ir.PathExact, ir.PathPrefix, ir.PathRegex}[rnd.IntN(3)],
						Path: pick("/", "/a", "/ab", "/b"), Method: pick("", "GET"),
						Headers: make([]ir.StringMatch, rnd.IntN(3)), Query: make([]ir.StringMatch, rnd.IntN(2))}
					key, ok := precedenceKeyOf(m, seq, rule, match)
					if !ok {
						t.Fatal("key out of range")
					}
					entries = append(entries, entry{key: key, age: int32(seq), src: &ir.RuleSource{Index: int32(rule)}, match: int32(match), m: m})
				}
			}
		}
		want, got := precedenceOrder(entries, false), precedenceOrder(entries, true)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: keyed order %v, stable comparePrecedence order %v", round, got, want)
		}
	}
}

// compareRouteAge orders routes by creation time, then namespace and name: the tie
// breaks of comparePrecedence after the match itself, which the age of an attached
// route stands for.
func compareRouteAge(a, b *metav1.ObjectMeta) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

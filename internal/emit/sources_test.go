package emit

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// TestSourcesNameTheRouteOfEveryRoute: in host groups of few and of many routes, their
// rules interleaved as precedence orders them, each source lists exactly the indexes of
// its route's Caddy routes, sources in the order they first appear; routes of several
// kinds with one name stay apart, and a route of no rule belongs to no source.
func TestSourcesNameTheRouteOfEveryRoute(t *testing.T) {
	for _, n := range []int{1, 3, manySources, manySources + 1, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var hg ir.HostGroup
			want := []caddyjson.RouteSource{}
			rules := make([]*ir.RuleSource, n)
			for i := range rules {
				rules[i] = &ir.RuleSource{Kind: "HTTPRoute", Namespace: "ns", Name: fmt.Sprint("r", i/2)}
				if i%2 == 1 {
					rules[i].Kind = "GRPCRoute"
				}
				want = append(want, caddyjson.RouteSource{Key: caddyjson.RouteSourceKey(rules[i].Kind, "ns", rules[i].Name)})
			}
			// Three rounds over the routes, with a route of no rule between rounds.
			for round := range 3 {
				for i := range rules {
					want[i].Routes = append(want[i].Routes, int32(len(hg.Routes)))
					hg.Routes = append(hg.Routes, ir.Route{Source: ir.Source{Rule: rules[i], Match: int32(round)}})
				}
				hg.Routes = append(hg.Routes, ir.Route{})
			}
			a := newSourceArena(0, 0)
			before := a.of(&ir.HostGroup{Routes: hg.Routes[:1]})
			got := a.of(&hg)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("sources:\n%+v\nwant\n%+v", got, want)
			}
			if len(before) != 1 || !reflect.DeepEqual(before[0].Routes, []int32{0}) {
				t.Errorf("the first group's sources changed: %+v", before)
			}
		})
	}
}

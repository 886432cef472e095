package translator_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestCheckPanicFailsOneRoute: a panic while checking one route, on this goroutine or a
// helper, refuses that route alone; the others are accepted and served.
func TestCheckPanicFailsOneRoute(t *testing.T) {
	for name, split := range map[string]bool{"in line": false, "on helpers": true} {
		t.Run(name, func(t *testing.T) {
			if split {
				defer translator.SplitEveryRoute()()
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
			}
			defer translator.PanicWhenChecking("tenant-b", "good")()
			out := translator.Translate(fixture.LoadCase(t, "testdata", "routes-poison-regex"))
			accepted := map[string]string{}
			for _, r := range out.Routes {
				for _, c := range r.Parents[0].Conditions {
					if c.Type == "Accepted" {
						accepted[r.Namespace+"/"+r.Name] = string(c.Status) + " " + c.Message
					}
				}
			}
			if got := accepted["tenant-b/good"]; !strings.HasPrefix(got, "False internal error while checking") {
				t.Errorf("the route whose check panicked: Accepted %q, want False with the internal error", got)
			}
			if got := accepted["tenant-b/good-grpc"]; got != "True Route is accepted" {
				t.Errorf("another route: Accepted %q, want True", got)
			}
			var served []string
			for _, h := range out.IR.HTTP[0].Listeners[0].Hosts {
				for _, r := range h.Routes {
					served = append(served, r.Source.Rule.Namespace+"/"+r.Source.Rule.Name)
				}
			}
			if strings.Join(served, ",") != "tenant-b/good-grpc" {
				t.Errorf("served routes %v, want only tenant-b/good-grpc", served)
			}
		})
	}
}

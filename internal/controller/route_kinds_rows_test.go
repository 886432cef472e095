package controller

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/testenv"
	"github.com/caddy-gateway/operator/internal/translator"
)

// TestRouteKindRows: each row of the table names the GVK of its Go types, reads the
// parentRefs and our status entries of its routes, and loads its routes into the
// translator's input field of its kind and no other; no kind has two rows.
func TestRouteKindRows(t *testing.T) {
	// How many routes of each kind an input holds: a new kind adds its line.
	loaded := map[string]func(*translator.Input) int{
		"HTTPRoute": func(in *translator.Input) int { return len(in.HTTPRoutes) },
		"GRPCRoute": func(in *translator.Input) int { return len(in.GRPCRoutes) },
		"TLSRoute":  func(in *translator.Input) int { return len(in.TLSRoutes) },
		"TCPRoute":  func(in *translator.Input) int { return len(in.TCPRoutes) },
		"UDPRoute":  func(in *translator.Input) int { return len(in.UDPRoutes) },
	}
	scheme := testenv.NewScheme()
	seen := map[string]bool{}
	for _, k := range allRouteKinds {
		if seen[k.kind()] {
			t.Errorf("two rows of kind %s", k.kind())
		}
		seen[k.kind()] = true
		t.Run(k.kind(), func(t *testing.T) {
			for obj, want := range map[runtime.Object]string{k.newRoute(): k.kind(), k.newList(): k.kind() + "List"} {
				gvks, _, err := scheme.ObjectKinds(obj)
				if err != nil || !slices.Contains(gvks, k.gvk.GroupVersion().WithKind(want)) {
					t.Errorf("%T is %v (%v), want %s", obj, gvks, err, k.gvk.GroupVersion().WithKind(want))
				}
			}
			rt := k.newRoute()
			rt.SetNamespace("app")
			rt.SetName("r")
			spec, status := k.common(rt)
			spec.ParentRefs = []gwapiv1.ParentReference{{Name: "gw"}}
			status.Parents = []gwapiv1.RouteParentStatus{
				{ParentRef: gwapiv1.ParentReference{Name: "old"}, ControllerName: testController},
				{ParentRef: gwapiv1.ParentReference{Name: "theirs"}, ControllerName: "example.com/other"},
			}
			list := k.newList()
			if err := meta.SetList(list, []runtime.Object{rt}); err != nil {
				t.Fatal(err)
			}
			items := k.items(list)
			if len(items) != 1 || items[0].GetName() != "r" {
				t.Fatalf("items = %v, want the route r", items)
			}
			if got, want := k.gatewayKeys(items[0], testController), []string{"app/gw", "app/old"}; !slices.Equal(got, want) {
				t.Errorf("gatewayKeys = %v, want %v", got, want)
			}
			var in translator.Input
			k.setInput(&in, list)
			for kind, count := range loaded {
				if want := map[bool]int{true: 1}[kind == k.kind()]; count(&in) != want {
					t.Errorf("input holds %d %ss, want %d", count(&in), kind, want)
				}
			}
			if _, ok := loaded[k.kind()]; !ok {
				t.Errorf("no line in loaded for %s", k.kind())
			}
		})
	}
}

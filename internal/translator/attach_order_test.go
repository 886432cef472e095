package translator

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestRoutesInAttachOrder checks the keyed attach order against the order it stands
// for (creation time, namespace, name, kind) on routes full of ties, of both kinds.
func TestRoutesInAttachOrder(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	ns := gwapiv1.Namespace("gw-ns")
	refs := []gwapiv1.ParentReference{{Name: "gw", Namespace: &ns}}
	for round := range 100 {
		in := Input{Gateway: &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gw-ns", Name: "gw"}}}
		meta := func() metav1.ObjectMeta {
			return metav1.ObjectMeta{Namespace: pick("a", "b", "c"), Name: pick("r1", "r2", "r10"),
				CreationTimestamp: metav1.NewTime(time.Unix(int64(rnd.IntN(3)), 0))}
		}
		for range rnd.IntN(20) {
			in.HTTPRoutes = append(in.HTTPRoutes, gwapiv1.HTTPRoute{ObjectMeta: meta(),
				Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: refs}}})
		}
		for range rnd.IntN(20) {
			in.GRPCRoutes = append(in.GRPCRoutes, gwapiv1.GRPCRoute{ObjectMeta: meta(),
				Spec: gwapiv1.GRPCRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: refs}}})
		}
		got := newTranslation(in).routesInAttachOrder()
		want := slices.Clone(got)
		slices.SortStableFunc(want, func(a, b pendingRoute) int {
			return cmp.Or(a.meta.CreationTimestamp.Compare(b.meta.CreationTimestamp.Time),
				cmp.Compare(a.meta.Namespace, b.meta.Namespace), cmp.Compare(a.meta.Name, b.meta.Name), cmp.Compare(a.kind.name, b.kind.name))
		})
		key := func(r pendingRoute) string {
			return r.kind.name + " " + r.meta.Namespace + "/" + r.meta.Name + " " + r.meta.CreationTimestamp.String()
		}
		for i := range want {
			if key(got[i]) != key(want[i]) {
				t.Fatalf("round %d, position %d: %s, want %s", round, i, key(got[i]), key(want[i]))
			}
			wantAge := int32(0)
			if i > 0 {
				wantAge = got[i-1].age
				if compareRouteAge(got[i-1].meta, got[i].meta) != 0 {
					wantAge++
				}
			}
			if got[i].age != wantAge {
				t.Fatalf("round %d, position %d: age %d, want %d", round, i, got[i].age, wantAge)
			}
		}
		checkStatusRanks(t, round, got)
		statuses := Translate(in).Routes
		checkStatusOrder(t, round, statuses)
		if len(statuses) != len(got) {
			t.Fatalf("round %d: %d route statuses, want %d", round, len(statuses), len(got))
		}
		if len(got) != len(in.HTTPRoutes)+len(in.GRPCRoutes) {
			t.Fatalf("round %d: %d routes pending, want %d", round, len(got), len(in.HTTPRoutes)+len(in.GRPCRoutes))
		}
	}
}

// checkStatusRanks checks that the status ranks of routes number them by kind, then
// namespace/name.
func checkStatusRanks(t *testing.T, round int, routes []pendingRoute) {
	t.Helper()
	byRank := make([]*pendingRoute, len(routes))
	for i := range routes {
		r := &routes[i]
		if r.statusRank < 0 || int(r.statusRank) >= len(routes) || byRank[r.statusRank] != nil {
			t.Fatalf("round %d: status rank %d out of range or taken twice", round, r.statusRank)
		}
		byRank[r.statusRank] = r
	}
	for i := 1; i < len(byRank); i++ {
		a, b := byRank[i-1], byRank[i]
		if cmp.Or(cmp.Compare(a.kind.name, b.kind.name), cmp.Compare(a.meta.Namespace, b.meta.Namespace),
			cmp.Compare(a.meta.Name, b.meta.Name)) > 0 {
			t.Fatalf("round %d, status rank %d: %s %s/%s after %s %s/%s", round, i,
				b.kind.name, b.meta.Namespace, b.meta.Name, a.kind.name, a.meta.Namespace, a.meta.Name)
		}
	}
}

// checkStatusOrder checks that route statuses are sorted by kind, then namespace/name.
func checkStatusOrder(t *testing.T, round int, routes []RouteStatus) {
	t.Helper()
	for i := 1; i < len(routes); i++ {
		a, b := routes[i-1], routes[i]
		if cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name)) > 0 {
			t.Fatalf("round %d, status %d: %s %s/%s after %s %s/%s", round, i,
				b.Kind, b.Namespace, b.Name, a.Kind, a.Namespace, a.Name)
		}
	}
}

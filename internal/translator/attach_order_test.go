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
		if len(got) != len(in.HTTPRoutes)+len(in.GRPCRoutes) {
			t.Fatalf("round %d: %d routes pending, want %d", round, len(got), len(in.HTTPRoutes)+len(in.GRPCRoutes))
		}
	}
}

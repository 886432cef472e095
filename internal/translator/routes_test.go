package translator

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestPendingRoutesByKind: every row of the kind table hands the core the routes of
// its own input list that refer to the Gateway, with their kind and index, and the
// row's route and check read the same object.
func TestPendingRoutesByKind(t *testing.T) {
	ns := gwapiv1.Namespace("gw-ns")
	here := gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &ns}}}
	elsewhere := gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "other", Namespace: &ns}}}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "app", Name: name} }
	in := Input{
		Gateway: &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gw-ns", Name: "gw"}},
		HTTPRoutes: []gwapiv1.HTTPRoute{
			{ObjectMeta: meta("h0"), Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: elsewhere}},
			{ObjectMeta: meta("h1"), Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: here}},
		},
		GRPCRoutes: []gwapiv1.GRPCRoute{
			{ObjectMeta: meta("g0"), Spec: gwapiv1.GRPCRouteSpec{CommonRouteSpec: here}},
			{ObjectMeta: meta("g1"), Spec: gwapiv1.GRPCRouteSpec{CommonRouteSpec: elsewhere}},
			{ObjectMeta: meta("g2"), Spec: gwapiv1.GRPCRouteSpec{CommonRouteSpec: here}},
		},
	}
	tr := newTranslation(in)
	var got []string
	for _, r := range tr.pendingRoutes() {
		ref := r.kind.route(&tr.in, int(r.index))
		if ref.meta != r.meta {
			t.Errorf("%s %s: the row's route reads %s", r.kind.name, r.meta.Name, ref.meta.Name)
		}
		if c := r.kind.check(tr, int(r.index)); len(c.sources) != 0 || c.unsupported != "" {
			t.Errorf("%s %s: checking a route without rules gave %+v", r.kind.name, r.meta.Name, c)
		}
		got = append(got, r.kind.name+" "+r.meta.Name)
	}
	want := []string{"HTTPRoute h1", "GRPCRoute g0", "GRPCRoute g2"}
	if !slices.Equal(got, want) {
		t.Errorf("pending routes %q, want %q", got, want)
	}
	if !tr.mixedKinds {
		t.Error("routes of two kinds, but hostname claims are not checked")
	}
	if newTranslation(Input{Gateway: in.Gateway, GRPCRoutes: in.GRPCRoutes}).mixedKinds {
		t.Error("routes of one kind, but hostname claims are checked")
	}
}

// TestKindsServedOn: the listener protocols of the rows decide a listener's kinds.
func TestKindsServedOn(t *testing.T) {
	for p, want := range map[gwapiv1.ProtocolType][]gwapiv1.Kind{
		gwapiv1.HTTPProtocolType:  {"HTTPRoute", "GRPCRoute"},
		gwapiv1.HTTPSProtocolType: {"HTTPRoute", "GRPCRoute"},
		gwapiv1.TCPProtocolType:   {"TCPRoute"},
		gwapiv1.UDPProtocolType:   {"UDPRoute"},
		gwapiv1.TLSProtocolType:   {"TLSRoute"},
	} {
		if got := kindsServedOn(p); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", p, got, want)
		}
	}
}

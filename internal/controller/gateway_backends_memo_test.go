package controller

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// memoRoute is an HTTPRoute of namespace "default" with a backendRef to each of
// services.
func memoRoute(name, uid string, generation int64, services ...string) *gwapiv1.HTTPRoute {
	var refs []gwapiv1.HTTPBackendRef
	for _, s := range services {
		refs = append(refs, gwapiv1.HTTPBackendRef{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(s)}}})
	}
	return &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID(uid), Generation: generation},
		Spec:       gwapiv1.HTTPRouteSpec{Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: refs}}},
	}
}

// keyNames are the names of keys, in order.
func keyNames(keys []client.ObjectKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

// TestBackendsMemo: the Services of a Gateway's routes follow every change of a route's
// spec (a new generation), a route deleted and created again under its name (a new UID),
// a route no longer listed and one the API server did not store (no UID), and the
// memo keeps entries only for the routes of the last walk.
func TestBackendsMemo(t *testing.T) {
	gw := types.NamespacedName{Namespace: "default", Name: "gw"}
	var m backendsMemo
	listed := map[string]*gwapiv1.HTTPRoute{
		"r1": memoRoute("r1", "uid-1", 1, "a"),
		"r2": memoRoute("r2", "uid-2", 1, "a", "b"),
		"r3": memoRoute("r3", "", 0, "c"),
	}
	extra := []client.ObjectKey{{Namespace: "default", Name: "x"}, {Namespace: "default", Name: "a"}}
	steps := []struct {
		name   string
		change func()
		want   []string
		memo   int // routes remembered
	}{
		{name: "first walk", want: []string{"a", "b", "c", "x"}, memo: 2},
		{name: "nothing changed", want: []string{"a", "b", "c", "x"}, memo: 2},
		{name: "a route's backendRefs changed", change: func() { listed["r2"] = memoRoute("r2", "uid-2", 2, "d") },
			want: []string{"a", "c", "d", "x"}, memo: 2},
		{name: "a route created again under its name", change: func() { listed["r1"] = memoRoute("r1", "uid-1b", 1, "e") },
			want: []string{"a", "c", "d", "e", "x"}, memo: 2},
		{name: "a route no longer listed", change: func() { delete(listed, "r2") }, want: []string{"a", "c", "e", "x"}, memo: 1},
		{name: "an unstored route changed", change: func() { listed["r3"] = memoRoute("r3", "", 0, "f") },
			want: []string{"a", "e", "f", "x"}, memo: 1},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		var items []client.Object
		for _, rt := range listed {
			items = append(items, rt)
		}
		got := m.keys(gw, []kindRoutes{{kind: httpRouteKind, items: items}}, extra)
		if !slices.Equal(keyNames(got), s.want) {
			t.Errorf("%s: keys %v; want %v", s.name, keyNames(got), s.want)
		}
		if n := len(m.m[gw].routes); n != s.memo {
			t.Errorf("%s: %d routes remembered; want %d", s.name, n, s.memo)
		}
	}
	m.forget(gw)
	if len(m.m) != 0 {
		t.Errorf("after the Gateway is forgotten, the memo holds %v", m.m)
	}
}

// TestBackendsMemoAgreesWithTheRoutes: over random changes of routes (spec, UID,
// listed or not) and of the extra keys, the memo's keys are always the sorted distinct
// keys of the routes as they are, for each of two Gateways.
func TestBackendsMemoAgreesWithTheRoutes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	var m backendsMemo
	type route struct {
		uid      int
		gen      int64
		services []string
		listed   bool
	}
	randomServices := func() []string {
		out := make([]string, rnd.IntN(3))
		for i := range out {
			out[i] = fmt.Sprintf("s%d", rnd.IntN(8))
		}
		return out
	}
	gws := []types.NamespacedName{{Namespace: "default", Name: "one"}, {Namespace: "default", Name: "two"}}
	routes := make([][]route, len(gws))
	uids := 0
	for g := range gws {
		routes[g] = make([]route, 12)
		for i := range routes[g] {
			uids++
			routes[g][i] = route{uid: uids, gen: 1, services: randomServices(), listed: true}
		}
	}
	for step := range 400 {
		g := rnd.IntN(len(gws))
		rt := &routes[g][rnd.IntN(len(routes[g]))]
		switch rnd.IntN(4) {
		case 0:
			rt.gen++
			rt.services = randomServices()
		case 1:
			uids++
			rt.uid, rt.gen, rt.services = uids, 1, randomServices()
		case 2:
			rt.listed = !rt.listed
		}
		var items []client.Object
		want := map[client.ObjectKey]bool{}
		for i, r := range routes[g] {
			if !r.listed {
				continue
			}
			items = append(items, memoRoute(fmt.Sprintf("r%d", i), fmt.Sprintf("uid-%d", r.uid), r.gen, r.services...))
			for _, s := range r.services {
				want[client.ObjectKey{Namespace: "default", Name: s}] = true
			}
		}
		rnd.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		var extra []client.ObjectKey
		if rnd.IntN(2) == 0 {
			extra = []client.ObjectKey{{Namespace: "default", Name: fmt.Sprintf("s%d", rnd.IntN(10))}}
			want[extra[0]] = true
		}
		wantKeys := make([]client.ObjectKey, 0, len(want))
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		slices.SortFunc(wantKeys, compareObjectKeys)
		got := m.keys(gws[g], []kindRoutes{{kind: httpRouteKind, items: items}}, extra)
		if !slices.Equal(got, wantKeys) {
			t.Fatalf("step %d, Gateway %s: keys %v; want %v", step, gws[g], keyNames(got), keyNames(wantKeys))
		}
		if n := len(m.m[gws[g]].routes); n != len(items) {
			t.Fatalf("step %d, Gateway %s: %d routes remembered; want %d", step, gws[g], n, len(items))
		}
	}
}

package controller

import (
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// TestWantAllQueuesEveryChange: a Gateway's statement of its routes' entries queues
// exactly the routes whose want changed, whatever its last statement remembers: changed
// entries or ListenerSets, a route forgotten or its empty want written since, a Gateway
// forgotten, a route no longer listed (withdrawn: TestWantAllWithdrawsTheRoutesOfAGoneSet);
// another Gateway's statement queues nothing.
func TestWantAllQueuesEveryChange(t *testing.T) {
	gw := types.NamespacedName{Namespace: "default", Name: "gw"}
	set := []types.NamespacedName{{Namespace: "default", Name: "set"}}
	r := &RouteStatusReconciler{queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[routeKey]())}
	t.Cleanup(r.queue.ShutDown)
	status := func(name, reason string) translator.RouteStatus {
		p := benchParents()
		p[0].Conditions[0].Reason = reason
		return translator.RouteStatus{Kind: "HTTPRoute", Namespace: "default", Name: name, Parents: p}
	}
	keysOf := func(ss []translator.RouteStatus, more ...string) []client.ObjectKey {
		var out []client.ObjectKey
		for _, s := range ss {
			out = append(out, client.ObjectKey{Namespace: s.Namespace, Name: s.Name})
		}
		for _, n := range more {
			out = append(out, client.ObjectKey{Namespace: "default", Name: n})
		}
		slices.Reverse(out) // the cache's order is not the statuses'
		return out
	}
	abc := []translator.RouteStatus{status("a", "Accepted"), status("b", "Accepted"), status("c", "Accepted")}
	bChanged := []translator.RouteStatus{abc[0], status("b", "Changed"), abc[2]}
	steps := []struct {
		name     string
		before   func()
		statuses []translator.RouteStatus
		sets     []types.NamespacedName
		none     []string // routes of the keys without statuses
		queued   []string
	}{
		{name: "first statement", statuses: abc, queued: []string{"a", "b", "c"}},
		{name: "same statement", statuses: abc},
		{name: "one route's entries changed", statuses: bChanged, queued: []string{"b"}},
		{name: "changed back", statuses: abc, queued: []string{"b"}},
		{name: "a route added before the others", statuses: append([]translator.RouteStatus{status("0", "Accepted")}, abc...), queued: []string{"0"}},
		{name: "a route added between others", statuses: []translator.RouteStatus{abc[0], status("aa", "Accepted"), abc[1], abc[2]}, queued: []string{"0", "aa"}},
		{name: "ListenerSets changed", statuses: abc, sets: set, queued: []string{"a", "aa", "b", "c"}},
		{name: "ListenerSets back", statuses: abc, queued: []string{"a", "b", "c"}},
		{name: "route forgotten", before: func() { r.forgetRoute(routeKey{"HTTPRoute", "default", "b"}) }, statuses: abc, queued: []string{"b"}},
		{name: "first route unlisted", statuses: abc[1:], queued: []string{"a"}},
		{name: "first route back", statuses: abc, queued: []string{"a"}},
		{name: "Gateway forgotten", before: func() { r.ForgetGateway(gw) }, statuses: abc, queued: []string{"a", "b", "c"}},
		{name: "route without entries", statuses: abc, none: []string{"d"}, queued: []string{"d"}},
		{name: "its empty want written", before: func() {
			key := routeKey{"HTTPRoute", "default", "d"}
			r.written(key, r.snapshot(key))
		}, statuses: abc, none: []string{"d"}, queued: []string{"d"}},
		{name: "another Gateway's statement", before: func() {
			r.WantAll("HTTPRoute", types.NamespacedName{Namespace: "default", Name: "other"}, nil, bChanged, keysOf(bChanged))
			drain(r.queue)
		}, statuses: abc, none: []string{"d"}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		r.WantAll("HTTPRoute", gw, s.sets, s.statuses, keysOf(s.statuses, s.none...))
		if got := drain(r.queue); !slices.Equal(got, s.queued) {
			t.Errorf("%s: queued %v; want %v", s.name, got, s.queued)
		}
		for _, st := range s.statuses {
			w := r.wants[routeKey{"HTTPRoute", st.Namespace, st.Name}][gw]
			if w == nil || !parentsEqual(w.parents, st.Parents) || !slices.Equal(w.sets, s.sets) {
				t.Errorf("%s: the want of %s is %+v; want %+v with sets %v", s.name, st.Name, w, st.Parents, s.sets)
			}
		}
	}
}

// drain returns the names of the routes queued, sorted, and empties the queue.
func drain(q workqueue.TypedRateLimitingInterface[routeKey]) []string {
	var out []string
	for q.Len() > 0 {
		k, _ := q.Get()
		q.Done(k)
		out = append(out, k.Name)
	}
	slices.Sort(out)
	return out
}

// goneSetFixture is Gateway default/gw, its ListenerSet tenant/set, a route status
// reconciler with a queue, and a parentRef naming the set.
func goneSetFixture(t *testing.T) (gw, set types.NamespacedName, r *RouteStatusReconciler, setRef gwapiv1.ParentReference) {
	gw = types.NamespacedName{Namespace: "default", Name: "gw"}
	set = types.NamespacedName{Namespace: "tenant", Name: "set"}
	r = &RouteStatusReconciler{queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[routeKey]())}
	t.Cleanup(r.queue.ShutDown)
	group, kind := gwapiv1.Group(gwapiv1.GroupName), gwapiv1.Kind("ListenerSet")
	setNS := gwapiv1.Namespace(set.Namespace)
	return gw, set, r, gwapiv1.ParentReference{Group: &group, Kind: &kind, Namespace: &setNS, Name: gwapiv1.ObjectName(set.Name)}
}

// TestWantAllWithdrawsTheRoutesOfAGoneSet: a route that named only a ListenerSet of the
// Gateway is no longer listed once the set is gone; the Gateway's next statement wants no
// entries for it, with the gone set among the want's sets, so that the writer removes
// the entry it had written for the set (mergeParents), and the route is queued once.
func TestWantAllWithdrawsTheRoutesOfAGoneSet(t *testing.T) {
	gw, set, r, setRef := goneSetFixture(t)
	entry := benchParents()
	entry[0].ParentRef = setRef
	route := routeKey{"HTTPRoute", "tenant", "r"}
	stated := []translator.RouteStatus{{Kind: route.Kind, Namespace: route.Namespace, Name: route.Name, Parents: entry}}

	r.WantAll("HTTPRoute", gw, []types.NamespacedName{set}, stated, []client.ObjectKey{{Namespace: "tenant", Name: "r"}})
	drain(r.queue)
	r.WantAll("HTTPRoute", gw, nil, nil, nil) // the set is gone, and so the route is not listed
	if got := drain(r.queue); !slices.Equal(got, []string{"r"}) {
		t.Fatalf("queued %v; want [r]", got)
	}
	w := r.wants[route][gw]
	if w == nil || len(w.parents) != 0 || !slices.Contains(w.sets, set) {
		t.Fatalf("the want of the route is %+v; want no entries, with sets naming %v", w, set)
	}
	if got := mergeParents(entry, w.parents, gw, w.sets, entry[0].ControllerName, route.Namespace); len(got) != 0 {
		t.Errorf("the entry for the gone set is kept: %+v", got)
	}
	r.WantAll("HTTPRoute", gw, nil, nil, nil)
	if got := drain(r.queue); len(got) != 0 {
		t.Errorf("the next statement queued %v again; want nothing", got)
	}
}

// TestWantAllWithdrawsTheEntriesOfAGoneSetFromRoutesOfTheGatewayToo: a route that names
// the Gateway and one of its ListenerSets loses its entry for the set once the set is
// gone and keeps the Gateway's; the statements after that settle and queue nothing.
func TestWantAllWithdrawsTheEntriesOfAGoneSetFromRoutesOfTheGatewayToo(t *testing.T) {
	gw, set, r, setRef := goneSetFixture(t)
	both := append(benchParents(), benchParents()...)
	both[1].ParentRef = setRef
	route := routeKey{"HTTPRoute", "tenant", "r"}
	keys := []client.ObjectKey{{Namespace: "tenant", Name: "r"}}
	stated := func(parents []gwapiv1.RouteParentStatus) []translator.RouteStatus {
		return []translator.RouteStatus{{Kind: route.Kind, Namespace: route.Namespace, Name: route.Name, Parents: parents}}
	}

	r.WantAll("HTTPRoute", gw, []types.NamespacedName{set}, stated(both), keys)
	drain(r.queue)
	r.WantAll("HTTPRoute", gw, nil, stated(both[:1]), keys) // the set is gone; the route still names the Gateway
	if got := drain(r.queue); !slices.Equal(got, []string{"r"}) {
		t.Fatalf("queued %v; want [r]", got)
	}
	w := r.wants[route][gw]
	got := mergeParents(both, w.parents, gw, w.sets, both[0].ControllerName, route.Namespace)
	if len(got) != 1 || !reflect.DeepEqual(got[0].ParentRef, both[0].ParentRef) {
		t.Fatalf("the route's entries are %+v; want the Gateway's only", got)
	}
	for range 2 {
		r.WantAll("HTTPRoute", gw, nil, stated(both[:1]), keys)
		drain(r.queue)
	}
	r.WantAll("HTTPRoute", gw, nil, stated(both[:1]), keys)
	if got := drain(r.queue); len(got) != 0 {
		t.Errorf("a statement with nothing changed queued %v; want nothing", got)
	}
}

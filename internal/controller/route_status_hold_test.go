package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestRouteStatusHold: while routes of its Gateway change in a burst, a route's status
// is not written; when the burst is over, the route is released and written; a burst
// that does not end holds it statusHoldMax at most; another Gateway's burst holds nothing.
func TestRouteStatusHold(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := gwapiv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	web := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"}}
	api := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "api"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(web, api).WithStatusSubresource(web).Build()
	gwA, gwB := types.NamespacedName{Namespace: "app", Name: "a"}, types.NamespacedName{Namespace: "app", Name: "b"}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	burst := map[types.NamespacedName]bool{gwA: true}
	w := &RouteStatusReconciler{Client: c, ControllerName: testController, hold: statusHold{
		bursting: func(gw types.NamespacedName) bool { return burst[gw] },
		clocked:  clocked{clk},
	}}
	ctx := context.Background()
	// written reports whether the route's status holds an entry.
	written := func(rt *gwapiv1.HTTPRoute) bool {
		var got gwapiv1.HTTPRoute
		if err := c.Get(ctx, client.ObjectKeyFromObject(rt), &got); err != nil {
			t.Fatal(err)
		}
		return len(got.Status.Parents) > 0
	}
	reconcile := func(key routeKey) time.Duration {
		res, err := w.Reconcile(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return res.RequeueAfter
	}

	webKey := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "web"}
	w.Want(webKey, gwA, []gwapiv1.RouteParentStatus{acceptedBy("a")})
	if wait := reconcile(webKey); wait != statusHoldMax || written(web) {
		t.Fatalf("during a burst: requeued after %s, written %v; want statusHoldMax, not written", wait, written(web))
	}
	clk.Step(time.Second)
	if wait := reconcile(webKey); wait != statusHoldMax-time.Second || written(web) {
		t.Fatalf("a second look: requeued after %s, written %v; want the rest of statusHoldMax, not written", wait, written(web))
	}
	if got := w.hold.release(gwB); len(got) != 0 {
		t.Fatalf("another Gateway's burst released %v", got)
	}
	burst[gwA] = false
	if got := w.hold.release(gwA); len(got) != 1 || got[0] != webKey {
		t.Fatalf("the end of the burst released %v; want [%s]", got, webKey)
	}
	if wait := reconcile(webKey); wait != 0 || !written(web) {
		t.Fatalf("after the burst: requeued after %s, written %v; want written now", wait, written(web))
	}
	if got := w.hold.release(gwA); len(got) != 0 {
		t.Fatalf("a written route is still held: %v", got)
	}

	apiKey := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "api"}
	burst[gwA] = true
	w.Want(apiKey, gwA, []gwapiv1.RouteParentStatus{acceptedBy("a")})
	reconcile(apiKey)
	clk.Step(statusHoldMax)
	if wait := reconcile(apiKey); wait != 0 || !written(api) {
		t.Fatalf("after statusHoldMax of a burst that goes on: requeued after %s, written %v; want written", wait, written(api))
	}

	// A Gateway deleted during its burst lets its held routes go.
	gone := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "gone"}
	burst[gwB] = true
	w.Want(gone, gwB, []gwapiv1.RouteParentStatus{acceptedBy("b")})
	if wait := reconcile(gone); wait == 0 {
		t.Fatal("a route of a bursting Gateway was not held")
	}
	w.ForgetGateway(gwB)
	reconcile(gone)
	if len(w.hold.held) != 0 {
		t.Fatalf("held %v after its Gateway was deleted; want none", w.hold.held)
	}
}

// TestRouteStatusBurstOver: wired to a Gateway's reconcilePace as the operator wires it,
// the writer holds a route's status while a burst runs and queues it again when the
// reconcile that ends the burst ends.
func TestRouteStatusBurstOver(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := gwapiv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	web := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(web).WithStatusSubresource(web).Build()
	gw := types.NamespacedName{Namespace: "app", Name: "a"}
	key := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "web"}
	w := &RouteStatusReconciler{Client: c, ControllerName: testController}
	var pace reconcilePace
	w.holdDuringBursts(&pace)
	w.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[routeKey]())
	defer w.queue.ShutDown()
	ctx := context.Background()

	end := pace.begin(gw) // a reconcile during which routes change twice: a burst
	pace.routeChanged(gw)
	pace.routeChanged(gw)
	w.Want(key, gw, []gwapiv1.RouteParentStatus{acceptedBy("a")})
	if got, _ := w.queue.Get(); got != key {
		t.Fatalf("queued %v; want %v", got, key)
	}
	w.queue.Done(key)
	if res, err := w.Reconcile(ctx, key); err != nil || res.RequeueAfter == 0 {
		t.Fatalf("during the burst: %+v, %v; want held", res, err)
	}
	end()
	if n := w.queue.Len(); n != 0 {
		t.Fatalf("%d routes queued while the burst goes on", n)
	}
	pace.begin(gw)() // a quiet reconcile ends the burst
	if n := w.queue.Len(); n != 1 {
		t.Fatalf("%d routes queued once the burst is over; want 1", n)
	}
	if _, err := w.Reconcile(ctx, key); err != nil {
		t.Fatal(err)
	}
	var got gwapiv1.HTTPRoute
	if err := c.Get(ctx, client.ObjectKeyFromObject(web), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Parents) != 1 {
		t.Fatalf("parents %+v after the burst; want the entry written", got.Status.Parents)
	}
}

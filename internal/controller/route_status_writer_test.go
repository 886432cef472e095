package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const testController = gwapiv1.GatewayController("example.com/caddy")

func acceptedBy(gw string) gwapiv1.RouteParentStatus {
	return gwapiv1.RouteParentStatus{
		ParentRef: gwapiv1.ParentReference{Name: gwapiv1.ObjectName(gw)}, ControllerName: testController,
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 1}},
	}
}

// TestRouteStatusWriter: the wants of two Gateways pending for one route go out in one
// write beside another controller's entry; after a write, a cache that still holds the
// replaced version is not trusted, however alike its entries look; entries someone else
// removed are put back; wanting the same again queues nothing.
func TestRouteStatusWriter(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := gwapiv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	foreign := gwapiv1.RouteParentStatus{ParentRef: gwapiv1.ParentReference{Name: "lb"}, ControllerName: "example.com/other"}
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Status:     gwapiv1.HTTPRouteStatus{RouteStatus: gwapiv1.RouteStatus{Parents: []gwapiv1.RouteParentStatus{foreign}}},
	}
	// stale, when set, is what Get returns instead of the stored route: a cache behind.
	var stale *gwapiv1.HTTPRoute
	writes := 0
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(route).WithStatusSubresource(route).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if stale != nil {
					stale.DeepCopyInto(obj.(*gwapiv1.HTTPRoute))
					return nil
				}
				return c.Get(ctx, key, obj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				writes++
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).Build()
	w := &RouteStatusReconciler{Client: c, ControllerName: testController}
	key := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "web"}
	gwA, gwB := types.NamespacedName{Namespace: "app", Name: "a"}, types.NamespacedName{Namespace: "app", Name: "b"}
	before := &gwapiv1.HTTPRoute{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(route), before); err != nil {
		t.Fatal(err)
	}

	w.Want(key, gwA, []gwapiv1.RouteParentStatus{acceptedBy("a")})
	w.Want(key, gwB, []gwapiv1.RouteParentStatus{acceptedBy("b")})
	if _, err := w.Reconcile(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	var got gwapiv1.HTTPRoute
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(route), &got); err != nil {
		t.Fatal(err)
	}
	names := []gwapiv1.ObjectName{}
	for _, p := range got.Status.Parents {
		names = append(names, p.ParentRef.Name)
	}
	if writes != 1 || len(names) != 3 || names[0] != "lb" || names[1] != "a" || names[2] != "b" {
		t.Fatalf("after %d writes, parents %v; want 1 write and [lb a b]", writes, names)
	}
	if len(w.wants[key]) != 2 {
		t.Errorf("after the write, the wants are %v; want both kept", w.wants)
	}

	// Gateway a no longer wants an entry, judged on a cache that has not seen the write
	// and holds no entry of a: the writer must wait rather than call it done.
	stale = before
	w.Want(key, gwA, nil)
	res, err := w.Reconcile(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter == 0 || writes != 1 || len(w.wants[key]) != 2 {
		t.Fatalf("on a stale cache: result %+v, %d writes, wants %v; want a requeue, no write, the want kept", res, writes, w.wants)
	}
	stale = nil
	if _, err := w.Reconcile(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(route), &got); err != nil {
		t.Fatal(err)
	}
	if writes != 2 || len(got.Status.Parents) != 2 || got.Status.Parents[1].ParentRef.Name != "b" {
		t.Fatalf("after %d writes, parents %+v; want 2 writes and [lb b]", writes, got.Status.Parents)
	}
	if _, ok := w.wants[key][gwA]; ok || len(w.wants[key]) != 1 {
		t.Errorf("wants %v; want only b's left once a's removal is written", w.wants)
	}

	// Someone else writes the status without our entry: the next look puts it back.
	got.Status.Parents = []gwapiv1.RouteParentStatus{foreign}
	if err := c.Status().Update(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Reconcile(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(route), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Parents) != 2 || got.Status.Parents[1].ParentRef.Name != "b" {
		t.Errorf("after another writer dropped our entry: parents %+v; want [lb b]", got.Status.Parents)
	}
	seq := w.seq
	w.Want(key, gwB, []gwapiv1.RouteParentStatus{acceptedBy("b")})
	if w.seq != seq {
		t.Error("wanting the same entries again made a new want")
	}
}

// TestRouteStatusWantCopies: Want keeps copies. The translator's entries share their
// condition lists between routes, and the cache's objects are the translation's input.
func TestRouteStatusWantCopies(t *testing.T) {
	w := &RouteStatusReconciler{ControllerName: testController}
	key := routeKey{Kind: "HTTPRoute", Namespace: "app", Name: "web"}
	gw := types.NamespacedName{Namespace: "app", Name: "a"}
	parents := []gwapiv1.RouteParentStatus{acceptedBy("a")}
	w.Want(key, gw, parents)
	parents[0].Conditions[0].Message = "changed by someone else"
	if got := w.wants[key][gw].parents[0].Conditions[0].Message; got == "changed by someone else" {
		t.Fatal("Want kept the caller's condition list instead of a copy")
	}
}

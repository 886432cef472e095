package controller_test

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestRouteStatusOfTwoGateways: one route attached to two Gateways of ours carries an
// entry for each, both written by the route status writer beside an entry of another
// controller, which stays; detaching from one Gateway removes only that entry; an entry
// of ours that someone else removes comes back.
func TestRouteStatusOfTwoGateways(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	second := newGateway(f.ns, "second", f.class)
	create(t, second)
	route, key := acceptedRoute(t, f)
	foreign := gwapiv1.RouteParentStatus{
		ParentRef:      gwapiv1.ParentReference{Name: "elsewhere"},
		ControllerName: "example.com/other-controller",
		Conditions: []metav1.Condition{{Type: string(gwapiv1.RouteConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gwapiv1.RouteReasonAccepted), LastTransitionTime: metav1.Now()}},
	}
	eventually(t, waitTimeout, func() error {
		var r gwapiv1.HTTPRoute
		if err := k8s.Get(ctxFor(t), key, &r); err != nil {
			return err
		}
		r.Status.Parents = append(r.Status.Parents, foreign)
		return k8s.Status().Update(ctxFor(t), &r)
	})

	update(t, route, func(r *gwapiv1.HTTPRoute) {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gwapiv1.ParentReference{Name: gwapiv1.ObjectName(second.Name)})
	})
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return parentsAre(r.Status.Parents, f.gateway.Name, second.Name)
	})

	update(t, route, func(r *gwapiv1.HTTPRoute) { r.Spec.ParentRefs = r.Spec.ParentRefs[1:] })
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return parentsAre(r.Status.Parents, second.Name)
	})

	eventually(t, waitTimeout, func() error {
		var r gwapiv1.HTTPRoute
		if err := k8s.Get(ctxFor(t), key, &r); err != nil {
			return err
		}
		r.Status.Parents = []gwapiv1.RouteParentStatus{foreign}
		return k8s.Status().Update(ctxFor(t), &r)
	})
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return parentsAre(r.Status.Parents, second.Name)
	})
}

// parentsAre checks that parents hold one accepted entry of ours for each Gateway of gws,
// no other entry of ours, and the entry of the other controller.
func parentsAre(parents []gwapiv1.RouteParentStatus, gws ...string) error {
	ours, others := 0, 0
	for _, p := range parents {
		if p.ControllerName == controllerName {
			ours++
		} else if p.ParentRef.Name == "elsewhere" {
			others++
		}
	}
	if ours != len(gws) || others != 1 {
		return fmt.Errorf("want entries of ours for %v and the other controller's, got %+v", gws, parents)
	}
	for _, gw := range gws {
		if err := reasonIs(parents, gw, string(gwapiv1.RouteReasonAccepted)); err != nil {
			return err
		}
	}
	return nil
}

// TestRouteStatusOfDeletedGateway: deleting a Gateway removes its entry from the status
// of a route that still names it.
func TestRouteStatusOfDeletedGateway(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	_, key := acceptedRoute(t, f)
	if err := k8s.Delete(ctxFor(t), f.gateway); err != nil {
		t.Fatal(err)
	}
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		if len(r.Status.Parents) != 0 {
			return fmt.Errorf("entries left for the deleted Gateway: %+v", r.Status.Parents)
		}
		return nil
	})
}

// acceptedRoute creates the HTTPRoute "web" attached to the fixture's Gateway and waits
// until our entry says Accepted.
func acceptedRoute(t *testing.T, f *fixture) (*gwapiv1.HTTPRoute, client.ObjectKey) {
	t.Helper()
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "web"},
		Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
			{Name: gwapiv1.ObjectName(f.gateway.Name)},
		}}},
	}
	create(t, route)
	key := client.ObjectKeyFromObject(route)
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})
	return route, key
}

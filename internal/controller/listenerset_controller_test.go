package controller_test

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// newListenerSet is a ListenerSet in namespace ns naming the Gateway gw/gwNS, with one
// HTTP listener on port whose routes may come from its own namespace.
func newListenerSet(ns, name, gwNS, gw string, port gwapiv1.PortNumber) *gwapiv1.ListenerSet {
	gwNamespace := gwapiv1.Namespace(gwNS)
	host := gwapiv1.Hostname(name + ".example.com")
	return &gwapiv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwapiv1.ListenerSetSpec{
			ParentRef: gwapiv1.ParentGatewayReference{Name: gwapiv1.ObjectName(gw), Namespace: &gwNamespace},
			Listeners: []gwapiv1.ListenerEntry{{Name: "http", Port: port, Protocol: gwapiv1.HTTPProtocolType, Hostname: &host}},
		},
	}
}

// listenerSetAcceptedIs checks the ListenerSet's Accepted condition.
func listenerSetAcceptedIs(status metav1.ConditionStatus, reason gwapiv1.ListenerSetConditionReason) func(*gwapiv1.ListenerSet) error {
	return func(ls *gwapiv1.ListenerSet) error {
		c := meta.FindStatusCondition(ls.Status.Conditions, string(gwapiv1.ListenerSetConditionAccepted))
		if c == nil || c.Status != status || c.Reason != string(reason) || c.ObservedGeneration != ls.Generation {
			return fmt.Errorf("Accepted is %+v, want %s/%s", c, status, reason)
		}
		return nil
	}
}

// servicePorts are the ports of the fixture's Service.
func servicePorts(t *testing.T, f *fixture) []int32 {
	t.Helper()
	var svc corev1.Service
	if err := k8s.Get(ctxFor(t), f.workload(), &svc); err != nil {
		t.Fatal(err)
	}
	var out []int32
	for _, p := range svc.Spec.Ports {
		out = append(out, p.Port)
	}
	return out
}

// TestListenerSetAttaches: a Gateway that allows ListenerSets from all namespaces
// attaches a set of another namespace: the set is accepted with its listeners' statuses
// (one on the Caddy pods' admin port refused alone, PortUnavailable), the Gateway stays
// accepted and counts it, and its Service opens the set's other port; a route naming the set
// gets an entry of its own, scoped to that parentRef. Narrowing allowedListeners to the
// Gateway's namespace detaches the set (NotAllowed), closes its port and refuses the
// route.
func TestListenerSetAttaches(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, func(gw *gwapiv1.Gateway) {
		all := gwapiv1.NamespacesFromAll
		gw.Spec.AllowedListeners = &gwapiv1.AllowedListeners{Namespaces: &gwapiv1.ListenerNamespaces{From: &all}}
	})
	teamNS := newNamespace(t)
	ls := newListenerSet(teamNS, "team", f.ns, f.gateway.Name, 8081)
	// A listener on the Caddy pods' admin port is refused alone.
	ls.Spec.Listeners = append(ls.Spec.Listeners, gwapiv1.ListenerEntry{Name: "admin", Port: 2021, Protocol: gwapiv1.HTTPProtocolType})
	create(t, ls)
	lsKey := client.ObjectKeyFromObject(ls)
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, func(ls *gwapiv1.ListenerSet) error {
		if err := listenerSetAcceptedIs(metav1.ConditionTrue, gwapiv1.ListenerSetReasonAccepted)(ls); err != nil {
			return err
		}
		if len(ls.Status.Listeners) != 2 || ls.Status.Listeners[0].Name != "http" ||
			!meta.IsStatusConditionTrue(ls.Status.Listeners[0].Conditions, string(gwapiv1.ListenerEntryConditionAccepted)) {
			return fmt.Errorf("listener statuses %+v", ls.Status.Listeners)
		}
		admin := meta.FindStatusCondition(ls.Status.Listeners[1].Conditions, string(gwapiv1.ListenerEntryConditionAccepted))
		if admin == nil || admin.Reason != string(gwapiv1.ListenerEntryReasonPortUnavailable) {
			return fmt.Errorf("the listener on the admin port is %+v, want PortUnavailable", admin)
		}
		if meta.FindStatusCondition(ls.Status.Conditions, string(gwapiv1.ListenerSetConditionProgrammed)) == nil {
			return fmt.Errorf("no Programmed condition: %+v", ls.Status.Conditions)
		}
		return nil
	})
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		if gw.Status.AttachedListenerSets == nil || *gw.Status.AttachedListenerSets != 1 {
			return fmt.Errorf("attachedListenerSets %v, want 1", gw.Status.AttachedListenerSets)
		}
		return gatewayAcceptedIs(gatewayAccepted)(gw)
	})
	eventually(t, waitTimeout, func() error {
		if ports := servicePorts(t, f); !slices.Contains(ports, 8081) || slices.Contains(ports, 2021) {
			return fmt.Errorf("Service ports %v: want the ListenerSet's 8081, not the admin port 2021", ports)
		}
		return nil
	})

	group, kind := gwapiv1.Group(gwapiv1.GroupName), gwapiv1.Kind("ListenerSet")
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamNS, Name: "web"},
		Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
			{Group: &group, Kind: &kind, Name: "team"},
		}}},
	}
	create(t, route)
	routeKey := client.ObjectKeyFromObject(route)
	waitFor(t, routeKey, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		if len(r.Status.Parents) != 1 || r.Status.Parents[0].ParentRef.Kind == nil || *r.Status.Parents[0].ParentRef.Kind != kind {
			return fmt.Errorf("want one entry for the ListenerSet, got %+v", r.Status.Parents)
		}
		return reasonIs(r.Status.Parents, "team", string(gwapiv1.RouteReasonAccepted))
	})
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, func(ls *gwapiv1.ListenerSet) error {
		if len(ls.Status.Listeners) != 2 || ls.Status.Listeners[0].AttachedRoutes != 1 || ls.Status.Listeners[1].AttachedRoutes != 0 {
			return fmt.Errorf("listener statuses %+v, want 1 route attached to http, none to admin", ls.Status.Listeners)
		}
		return nil
	})

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		same := gwapiv1.NamespacesFromSame
		gw.Spec.AllowedListeners.Namespaces.From = &same
	})
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionFalse, gwapiv1.ListenerSetReasonNotAllowed))
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		if gw.Status.AttachedListenerSets != nil {
			return fmt.Errorf("attachedListenerSets %d, want none", *gw.Status.AttachedListenerSets)
		}
		return nil
	})
	eventually(t, waitTimeout, func() error {
		if ports := servicePorts(t, f); slices.Contains(ports, 8081) {
			return fmt.Errorf("Service ports %v still hold the detached ListenerSet's 8081", ports)
		}
		return nil
	})
	waitFor(t, routeKey, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, "team", string(gwapiv1.RouteReasonNoMatchingParent))
	})
}

// TestListenerSetOfInvalidGateway: while the Gateway is not accepted (its parameters
// invalid), the ListenerSets naming it are not accepted either (ParentNotAccepted), and
// the Gateway counts none; when it is accepted again, so are they; when it is deleted,
// they are not accepted again.
func TestListenerSetOfInvalidGateway(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, func(gw *gwapiv1.Gateway) {
		same := gwapiv1.NamespacesFromSame
		gw.Spec.AllowedListeners = &gwapiv1.AllowedListeners{Namespaces: &gwapiv1.ListenerNamespaces{From: &same}}
	})
	ls := newListenerSet(f.ns, "team", f.ns, f.gateway.Name, 8081)
	create(t, ls)
	lsKey := client.ObjectKeyFromObject(ls)
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionTrue, gwapiv1.ListenerSetReasonAccepted))

	update(t, f.params, func(p *v1alpha1.CaddyProxyConfig) { p.Spec = conflictingPorts() })
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionFalse, gwapiv1.ListenerSetReasonParentNotAccepted))
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		if gw.Status.AttachedListenerSets != nil {
			return fmt.Errorf("attachedListenerSets %d, want none", *gw.Status.AttachedListenerSets)
		}
		return nil
	})

	update(t, f.params, func(p *v1alpha1.CaddyProxyConfig) { p.Spec = v1alpha1.CaddyProxyConfigSpec{} })
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionTrue, gwapiv1.ListenerSetReasonAccepted))

	if err := k8s.Delete(ctxFor(t), f.gateway); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionFalse, gwapiv1.ListenerSetReasonParentNotAccepted))
}

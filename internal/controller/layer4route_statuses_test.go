package controller_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The TCPRoute, UDPRoute and TLSRoute status tests share one shape: a route with a
// parentRef to the listener of its kind ("served") and one to a listener that does not
// allow the kind ("refused"), whose one backend is a Service in another namespace.

// allNamespaces admits routes from every namespace.
var allNamespaces = &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}

// servedAndRefused are parentRefs to the sections served and refused of gateway.
func servedAndRefused(gateway, served, refused string) gwapiv1.CommonRouteSpec {
	return gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
		{Name: gwapiv1.ObjectName(gateway), SectionName: ptr.To(gwapiv1.SectionName(served))},
		{Name: gwapiv1.ObjectName(gateway), SectionName: ptr.To(gwapiv1.SectionName(refused))},
	}}
}

// backendIn is a backendRef to port of Service ns/name.
func backendIn(ns, name string, port gwapiv1.PortNumber) []gwapiv1.BackendRef {
	return []gwapiv1.BackendRef{{BackendObjectReference: gwapiv1.BackendObjectReference{
		Name: gwapiv1.ObjectName(name), Namespace: ptr.To(gwapiv1.Namespace(ns)), Port: ptr.To(port),
	}}}
}

// grantServices lets routes of kind in namespace from refer to the Services of ns.
func grantServices(t *testing.T, ns, from, kind string) {
	t.Helper()
	create(t, &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "services-for-" + from},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: gwapiv1.Kind(kind), Namespace: gwapiv1.Namespace(from)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	})
}

// waitServedAndRefused waits until route's parent entries of ours are the served
// section Accepted and the refused one NotAllowedByListeners, both with ResolvedRefs of
// reason refs; parents reads the entries of a route of route's kind.
func waitServedAndRefused[T client.Object](t *testing.T, route T, parents func(T) []gwapiv1.RouteParentStatus, served, refused string, refs gwapiv1.RouteConditionReason) {
	t.Helper()
	want := map[string]gwapiv1.RouteConditionReason{served: gwapiv1.RouteReasonAccepted, refused: gwapiv1.RouteReasonNotAllowedByListeners}
	waitFor(t, client.ObjectKeyFromObject(route), route, func(r T) error {
		found := 0
		for _, p := range parents(r) {
			if p.ControllerName != controllerName || p.ParentRef.SectionName == nil {
				continue
			}
			section := string(*p.ParentRef.SectionName)
			acc := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionAccepted))
			res := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionResolvedRefs))
			if acc == nil || acc.Reason != string(want[section]) || res == nil || res.Reason != string(refs) {
				return fmt.Errorf("parent %s: Accepted %v, ResolvedRefs %v; want %s and %s", section, acc, res, want[section], refs)
			}
			found++
		}
		if found != 2 {
			return fmt.Errorf("%d parent entries of ours, want 2: %+v", found, parents(r))
		}
		return nil
	})
}

// waitAttached waits until the Gateway's listener counts one attached route and,
// when kind is not empty, supports that kind only.
func (f *fixture) waitAttached(t *testing.T, listener, kind string) {
	t.Helper()
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			if string(l.Name) != listener {
				continue
			}
			if l.AttachedRoutes != 1 || kind != "" && (len(l.SupportedKinds) != 1 || string(l.SupportedKinds[0].Kind) != kind) {
				return fmt.Errorf("listener %s: attachedRoutes %d, supportedKinds %v; want 1 and [%s]", listener, l.AttachedRoutes, l.SupportedKinds, kind)
			}
			return nil
		}
		return fmt.Errorf("no status for listener %s: %+v", listener, gw.Status.Listeners)
	})
}

package controller_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestTCPRouteStatuses: a TCPRoute on a TCP listener is accepted and counted in the
// listener's attachedRoutes; its backend in another namespace is refused
// (RefNotPermitted) until a ReferenceGrant admits it, and the grant's arrival alone
// resolves it; the same route on the HTTP listener is NotAllowedByListeners.
func TestTCPRouteStatuses(t *testing.T) {
	all := &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: 9000, AllowedRoutes: all},
	))
	backendNS := newNamespace(t)
	create(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}})
	route := &gwapiv1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"},
		Spec: gwapiv1.TCPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("tcp"))},
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("http"))},
			}},
			Rules: []gwapiv1.TCPRouteRule{{BackendRefs: []gwapiv1.BackendRef{{BackendObjectReference: gwapiv1.BackendObjectReference{
				Name: "db", Namespace: ptr.To(gwapiv1.Namespace(backendNS)), Port: ptr.To(gwapiv1.PortNumber(5432)),
			}}}}},
		},
	}
	create(t, route)
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.TCPRoute{}, func(r *gwapiv1.TCPRoute) error {
		return tcpParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonRefNotPermitted))
	})
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			if l.Name == "tcp" && l.AttachedRoutes == 1 {
				return nil
			}
		}
		return fmt.Errorf("listener tcp does not count the TCPRoute: %+v", gw.Status.Listeners)
	})

	create(t, &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "tcp-from-" + f.ns},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: "TCPRoute", Namespace: gwapiv1.Namespace(f.ns)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	})
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.TCPRoute{}, func(r *gwapiv1.TCPRoute) error {
		return tcpParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonResolvedRefs))
	})
}

// tcpParentsAre checks the two parent entries of TestTCPRouteStatuses: the tcp one
// accepted, the http one NotAllowedByListeners, both with ResolvedRefs of reason refs.
func tcpParentsAre(parents []gwapiv1.RouteParentStatus, refs string) error {
	want := map[string]string{"tcp": string(gwapiv1.RouteReasonAccepted), "http": string(gwapiv1.RouteReasonNotAllowedByListeners)}
	found := 0
	for _, p := range parents {
		if p.ControllerName != controllerName || p.ParentRef.SectionName == nil {
			continue
		}
		section := string(*p.ParentRef.SectionName)
		acc := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionAccepted))
		res := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionResolvedRefs))
		if acc == nil || acc.Reason != want[section] || res == nil || res.Reason != refs {
			return fmt.Errorf("parent %s: Accepted %v, ResolvedRefs %v; want %s and %s", section, acc, res, want[section], refs)
		}
		found++
	}
	if found != 2 {
		return fmt.Errorf("%d parent entries of ours, want 2: %+v", found, parents)
	}
	return nil
}

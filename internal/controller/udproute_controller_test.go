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

// TestUDPRouteStatuses: a UDPRoute on a UDP listener (sharing its port number with a
// TCP listener) is accepted and counted in the listener's attachedRoutes; its backend
// in another namespace is refused (RefNotPermitted) until a ReferenceGrant admits it,
// then refused for having no UDP port (UnsupportedProtocol) until the Service gets one;
// the same route on the TCP listener is NotAllowedByListeners.
func TestUDPRouteStatuses(t *testing.T) {
	all := &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: 5353},
		gwapiv1.Listener{Name: "udp", Protocol: gwapiv1.UDPProtocolType, Port: 5353, AllowedRoutes: all},
	))
	backendNS := newNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "dns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "tcp", Port: 53, Protocol: corev1.ProtocolTCP}}}}
	create(t, svc)
	route := &gwapiv1.UDPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "dns"},
		Spec: gwapiv1.UDPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("udp"))},
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("tcp"))},
			}},
			Rules: []gwapiv1.UDPRouteRule{{BackendRefs: []gwapiv1.BackendRef{{BackendObjectReference: gwapiv1.BackendObjectReference{
				Name: "dns", Namespace: ptr.To(gwapiv1.Namespace(backendNS)), Port: ptr.To(gwapiv1.PortNumber(53)),
			}}}}},
		},
	}
	create(t, route)
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.UDPRoute{}, func(r *gwapiv1.UDPRoute) error {
		return udpParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonRefNotPermitted))
	})
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		counted := 0
		for _, l := range gw.Status.Listeners {
			c := meta.FindStatusCondition(l.Conditions, string(gwapiv1.ListenerConditionConflicted))
			if c == nil || c.Status != metav1.ConditionFalse {
				return fmt.Errorf("listener %s: Conflicted %v, want False (TCP and UDP share port numbers)", l.Name, c)
			}
			if l.Name == "udp" && l.AttachedRoutes == 1 {
				counted++
			}
		}
		if counted != 1 {
			return fmt.Errorf("listener udp does not count the UDPRoute: %+v", gw.Status.Listeners)
		}
		return nil
	})

	create(t, &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "udp-from-" + f.ns},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: "UDPRoute", Namespace: gwapiv1.Namespace(f.ns)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	})
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.UDPRoute{}, func(r *gwapiv1.UDPRoute) error {
		return udpParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonUnsupportedProtocol))
	})

	cur := &corev1.Service{}
	if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(svc), cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Ports = append(cur.Spec.Ports, corev1.ServicePort{Name: "udp", Port: 53, Protocol: corev1.ProtocolUDP})
	if err := k8s.Update(ctxFor(t), cur); err != nil {
		t.Fatal(err)
	}
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.UDPRoute{}, func(r *gwapiv1.UDPRoute) error {
		return udpParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonResolvedRefs))
	})
}

// udpParentsAre checks the two parent entries of TestUDPRouteStatuses: the udp one
// accepted, the tcp one NotAllowedByListeners, both with ResolvedRefs of reason refs.
func udpParentsAre(parents []gwapiv1.RouteParentStatus, refs string) error {
	want := map[string]string{"udp": string(gwapiv1.RouteReasonAccepted), "tcp": string(gwapiv1.RouteReasonNotAllowedByListeners)}
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

package controller_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: 5353},
		gwapiv1.Listener{Name: "udp", Protocol: gwapiv1.UDPProtocolType, Port: 5353, AllowedRoutes: allNamespaces},
	))
	backendNS := newNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "dns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "tcp", Port: 53, Protocol: corev1.ProtocolTCP}}}}
	create(t, svc)
	route := &gwapiv1.UDPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "dns"},
		Spec: gwapiv1.UDPRouteSpec{
			CommonRouteSpec: servedAndRefused(f.gateway.Name, "udp", "tcp"),
			Rules:           []gwapiv1.UDPRouteRule{{BackendRefs: backendIn(backendNS, "dns", 53)}},
		},
	}
	create(t, route)
	parents := func(r *gwapiv1.UDPRoute) []gwapiv1.RouteParentStatus { return r.Status.Parents }
	waitServedAndRefused(t, route, parents, "udp", "tcp", gwapiv1.RouteReasonRefNotPermitted)
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			c := meta.FindStatusCondition(l.Conditions, string(gwapiv1.ListenerConditionConflicted))
			if c == nil || c.Status != metav1.ConditionFalse {
				return fmt.Errorf("listener %s: Conflicted %v, want False (TCP and UDP share port numbers)", l.Name, c)
			}
		}
		return nil
	})
	f.waitAttached(t, "udp", "")

	grantServices(t, backendNS, f.ns, "UDPRoute")
	waitServedAndRefused(t, route, parents, "udp", "tcp", gwapiv1.RouteReasonUnsupportedProtocol)

	cur := &corev1.Service{}
	if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(svc), cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Ports = append(cur.Spec.Ports, corev1.ServicePort{Name: "udp", Port: 53, Protocol: corev1.ProtocolUDP})
	if err := k8s.Update(ctxFor(t), cur); err != nil {
		t.Fatal(err)
	}
	waitServedAndRefused(t, route, parents, "udp", "tcp", gwapiv1.RouteReasonResolvedRefs)
}

package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestTCPRouteStatuses: a TCPRoute on a TCP listener is accepted and counted in the
// listener's attachedRoutes; its backend in another namespace is refused
// (RefNotPermitted) until a ReferenceGrant admits it, and the grant's arrival alone
// resolves it; the same route on the HTTP listener is NotAllowedByListeners.
func TestTCPRouteStatuses(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: 9000, AllowedRoutes: allNamespaces},
	))
	backendNS := newNamespace(t)
	create(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}})
	route := &gwapiv1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"},
		Spec: gwapiv1.TCPRouteSpec{
			CommonRouteSpec: servedAndRefused(f.gateway.Name, "tcp", "http"),
			Rules:           []gwapiv1.TCPRouteRule{{BackendRefs: backendIn(backendNS, "db", 5432)}},
		},
	}
	create(t, route)
	parents := func(r *gwapiv1.TCPRoute) []gwapiv1.RouteParentStatus { return r.Status.Parents }
	waitServedAndRefused(t, route, parents, "tcp", "http", gwapiv1.RouteReasonRefNotPermitted)
	f.waitAttached(t, "tcp", "")

	grantServices(t, backendNS, f.ns, "TCPRoute")
	waitServedAndRefused(t, route, parents, "tcp", "http", gwapiv1.RouteReasonResolvedRefs)
}

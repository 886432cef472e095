package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestTLSRouteStatuses: a TLSRoute on a TLS Passthrough listener is accepted and
// counted in the listener's attachedRoutes, which lists TLSRoute as its one supported
// kind; its backend in another namespace is refused (RefNotPermitted) until a
// ReferenceGrant admits it, and the grant's arrival alone resolves it; the same route
// on the HTTP listener is NotAllowedByListeners.
func TestTLSRouteStatuses(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "tls", Protocol: gwapiv1.TLSProtocolType, Port: 443, AllowedRoutes: allNamespaces,
			Hostname: ptr.To(gwapiv1.Hostname("*.example.com")),
			TLS:      &gwapiv1.ListenerTLSConfig{Mode: ptr.To(gwapiv1.TLSModePassthrough)}},
	))
	backendNS := newNamespace(t)
	create(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}})
	route := &gwapiv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"},
		Spec: gwapiv1.TLSRouteSpec{
			CommonRouteSpec: servedAndRefused(f.gateway.Name, "tls", "http"),
			Hostnames:       []gwapiv1.Hostname{"db.example.com"},
			Rules:           []gwapiv1.TLSRouteRule{{BackendRefs: backendIn(backendNS, "db", 5432)}},
		},
	}
	create(t, route)
	parents := func(r *gwapiv1.TLSRoute) []gwapiv1.RouteParentStatus { return r.Status.Parents }
	waitServedAndRefused(t, route, parents, "tls", "http", gwapiv1.RouteReasonRefNotPermitted)
	f.waitAttached(t, "tls", "TLSRoute")

	grantServices(t, backendNS, f.ns, "TLSRoute")
	waitServedAndRefused(t, route, parents, "tls", "http", gwapiv1.RouteReasonResolvedRefs)
}

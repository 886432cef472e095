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

// TestTLSRouteStatuses: a TLSRoute on a TLS Passthrough listener is accepted and
// counted in the listener's attachedRoutes, which lists TLSRoute as its one supported
// kind; its backend in another namespace is refused (RefNotPermitted) until a
// ReferenceGrant admits it, and the grant's arrival alone resolves it; the same route
// on the HTTP listener is NotAllowedByListeners.
func TestTLSRouteStatuses(t *testing.T) {
	all := &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "tls", Protocol: gwapiv1.TLSProtocolType, Port: 443, AllowedRoutes: all,
			Hostname: ptr.To(gwapiv1.Hostname("*.example.com")),
			TLS:      &gwapiv1.ListenerTLSConfig{Mode: ptr.To(gwapiv1.TLSModePassthrough)}},
	))
	backendNS := newNamespace(t)
	create(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}})
	route := &gwapiv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "db"},
		Spec: gwapiv1.TLSRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("tls"))},
				{Name: gwapiv1.ObjectName(f.gateway.Name), SectionName: ptr.To(gwapiv1.SectionName("http"))},
			}},
			Hostnames: []gwapiv1.Hostname{"db.example.com"},
			Rules: []gwapiv1.TLSRouteRule{{BackendRefs: []gwapiv1.BackendRef{{BackendObjectReference: gwapiv1.BackendObjectReference{
				Name: "db", Namespace: ptr.To(gwapiv1.Namespace(backendNS)), Port: ptr.To(gwapiv1.PortNumber(5432)),
			}}}}},
		},
	}
	create(t, route)
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.TLSRoute{}, func(r *gwapiv1.TLSRoute) error {
		return tlsParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonRefNotPermitted))
	})
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			if l.Name == "tls" && l.AttachedRoutes == 1 && len(l.SupportedKinds) == 1 && l.SupportedKinds[0].Kind == "TLSRoute" {
				return nil
			}
		}
		return fmt.Errorf("listener tls does not count the TLSRoute or support only TLSRoutes: %+v", gw.Status.Listeners)
	})

	create(t, &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: backendNS, Name: "tls-from-" + f.ns},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: "TLSRoute", Namespace: gwapiv1.Namespace(f.ns)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	})
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.TLSRoute{}, func(r *gwapiv1.TLSRoute) error {
		return tlsParentsAre(r.Status.Parents, string(gwapiv1.RouteReasonResolvedRefs))
	})
}

// tlsParentsAre checks the two parent entries of TestTLSRouteStatuses: the tls one
// accepted, the http one NotAllowedByListeners, both with ResolvedRefs of reason refs.
func tlsParentsAre(parents []gwapiv1.RouteParentStatus, refs string) error {
	want := map[string]string{"tls": string(gwapiv1.RouteReasonAccepted), "http": string(gwapiv1.RouteReasonNotAllowedByListeners)}
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

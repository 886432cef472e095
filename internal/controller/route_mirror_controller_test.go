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

// resolvedRefsReason checks the ResolvedRefs reason of our parent entry for Gateway gw.
func resolvedRefsReason(parents []gwapiv1.RouteParentStatus, gw, want string) error {
	for _, p := range parents {
		if p.ControllerName != controllerName || string(p.ParentRef.Name) != gw {
			continue
		}
		c := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionResolvedRefs))
		if c == nil || c.Reason != want {
			return fmt.Errorf("ResolvedRefs %+v, want reason %s", c, want)
		}
		return nil
	}
	return fmt.Errorf("no parent entry of ours for Gateway %s in %+v", gw, parents)
}

func newService(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}
}

// Services used only as mirror backends (of a rule's filter and of a backendRef's
// filter) are read and watched like backends: the route resolves them, and deleting
// one turns ResolvedRefs to BackendNotFound.
func TestRouteMirrorBackendsAreWatched(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	for _, name := range []string{"web", "rule-shadow", "backend-shadow"} {
		create(t, newService(f.ns, name))
	}
	mirror := func(svc string) *gwapiv1.HTTPRequestMirrorFilter {
		return &gwapiv1.HTTPRequestMirrorFilter{BackendRef: gwapiv1.BackendObjectReference{
			Name: gwapiv1.ObjectName(svc), Port: new(gwapiv1.PortNumber(8080))}}
	}
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "mirrored"},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(f.gateway.Name)}}},
			Rules: []gwapiv1.HTTPRouteRule{{
				Filters: []gwapiv1.HTTPRouteFilter{{Type: gwapiv1.HTTPRouteFilterRequestMirror, RequestMirror: mirror("rule-shadow")}},
				BackendRefs: []gwapiv1.HTTPBackendRef{{
					BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
						Name: "web", Port: new(gwapiv1.PortNumber(8080))}},
					Filters: []gwapiv1.HTTPRouteFilter{{Type: gwapiv1.HTTPRouteFilterRequestMirror, RequestMirror: mirror("backend-shadow")}},
				}},
			}},
		},
	}
	create(t, route)
	key := client.ObjectKeyFromObject(route)
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		if err := reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted)); err != nil {
			return err
		}
		return resolvedRefsReason(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonResolvedRefs))
	})
	if err := k8s.Delete(ctxFor(t), newService(f.ns, "backend-shadow")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, key, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return resolvedRefsReason(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonBackendNotFound))
	})
}

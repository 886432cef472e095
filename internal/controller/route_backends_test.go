package controller_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestRouteBackendsFollowTheRoute: a route whose backendRef moves from one Service to
// another has the Gateway read the new Service and no longer the old one, and a change
// of the new Service translates the Gateway again with it; moved back, the same holds
// the other way round.
func TestRouteBackendsFollowTheRoute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	services := map[string]*corev1.Service{"web": newService(f.ns, "web"), "api": newService(f.ns, "api")}
	for _, s := range services {
		create(t, s)
	}
	routeTo(t, f, "web")
	route := &gwapiv1.HTTPRoute{}
	route.Namespace, route.Name = f.ns, "to-web"
	onlyService := func(name, version string) func(loaded) error {
		return func(l loaded) error {
			key := f.ns + "/" + name
			if got, ok := l.services[key]; len(l.services) != 1 || !ok || got != version {
				return fmt.Errorf("Services loaded %v; want only %s at version %q", l.services, key, version)
			}
			return nil
		}
	}
	translations.wait(t, f.gateway, onlyService("web", ""))
	for _, step := range []struct{ to, version string }{{"api", "2"}, {"web", "3"}} {
		update(t, route, func(r *gwapiv1.HTTPRoute) { r.Spec.Rules[0].BackendRefs[0].Name = gwapiv1.ObjectName(step.to) })
		translations.wait(t, f.gateway, onlyService(step.to, ""))
		update(t, services[step.to], func(s *corev1.Service) { s.Labels = map[string]string{"version": step.version} })
		translations.wait(t, f.gateway, onlyService(step.to, step.version))
	}
}

package controller_test

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestAttachedRoutesOfABurstArrive: after a burst of route creations, with nothing else
// happening, the Gateway's attachedRoutes reaches the burst's count: the reconcile that
// held the counts back is requeued for the end of countsInterval.
func TestAttachedRoutesOfABurstArrive(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	attached := func(n int32) func(*gwapiv1.Gateway) error {
		return func(gw *gwapiv1.Gateway) error {
			if len(gw.Status.Listeners) != 1 || gw.Status.Listeners[0].AttachedRoutes != n {
				return fmt.Errorf("listeners %+v; want one with %d attached routes", gw.Status.Listeners, n)
			}
			return nil
		}
	}
	// The Gateway's status was just written: even the first count waits out the interval,
	// and so do those of the burst after its write.
	create(t, hostRoute(f.ns, f.gateway.Name, "first"))
	f.waitGateway(t, attached(1))
	for i := range 4 {
		create(t, hostRoute(f.ns, f.gateway.Name, fmt.Sprintf("burst-%d", i)))
	}
	f.waitGateway(t, attached(5))
}

// hostRoute is the HTTPRoute name in ns for the hostname <name>.example.com, without
// rules, attached to the Gateway gateway of ns.
func hostRoute(ns, gateway, name string) *gwapiv1.HTTPRoute {
	return &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(gateway)}}},
			Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(name + ".example.com")},
		},
	}
}

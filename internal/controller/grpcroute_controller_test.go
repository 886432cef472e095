package controller_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// acceptedReason returns the reason of the Accepted condition of our parent entry for
// the Gateway named gw, or an error when there is no such entry.
func acceptedReason(parents []gwapiv1.RouteParentStatus, gw string) (string, error) {
	for _, p := range parents {
		if p.ControllerName == controllerName && string(p.ParentRef.Name) == gw {
			if c := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionAccepted)); c != nil {
				return c.Reason, nil
			}
		}
	}
	return "", fmt.Errorf("no Accepted condition of ours for Gateway %s in %+v", gw, parents)
}

// TestGRPCRouteStatuses: a GRPCRoute attached to a Gateway gets our parent entry; an
// HTTPRoute of the same name whose hostnames intersect on the same listener is rejected
// (the GRPCRoute is older, or first by kind on a timestamp tie) without the two kinds'
// statuses mixing; detaching the GRPCRoute removes our entry and accepts the HTTPRoute.
func TestGRPCRouteStatuses(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	parent := []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(f.gateway.Name)}}
	grpcRoute := &gwapiv1.GRPCRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "api"},
		Spec:       gwapiv1.GRPCRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: parent}},
	}
	create(t, grpcRoute)
	waitFor(t, client.ObjectKeyFromObject(grpcRoute), &gwapiv1.GRPCRoute{}, func(r *gwapiv1.GRPCRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})
	httpRoute := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "api"},
		Spec:       gwapiv1.HTTPRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: parent}},
	}
	create(t, httpRoute)
	waitFor(t, client.ObjectKeyFromObject(httpRoute), &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, "HostnameConflict")
	})
	waitFor(t, client.ObjectKeyFromObject(grpcRoute), &gwapiv1.GRPCRoute{}, func(r *gwapiv1.GRPCRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})

	update(t, grpcRoute, func(r *gwapiv1.GRPCRoute) { r.Spec.ParentRefs[0].Name = "elsewhere" })
	waitFor(t, client.ObjectKeyFromObject(grpcRoute), &gwapiv1.GRPCRoute{}, func(r *gwapiv1.GRPCRoute) error {
		if _, err := acceptedReason(r.Status.Parents, f.gateway.Name); err == nil {
			return fmt.Errorf("stale parent entry for %s: %+v", f.gateway.Name, r.Status.Parents)
		}
		return nil
	})
	waitFor(t, client.ObjectKeyFromObject(httpRoute), &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})
}

func reasonIs(parents []gwapiv1.RouteParentStatus, gw, want string) error {
	got, err := acceptedReason(parents, gw)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("Accepted reason %s, want %s", got, want)
	}
	return nil
}

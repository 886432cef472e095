package controller

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// writeRouteStatuses replaces this Gateway's parent entries in the status of every route
// that names it (or still carries an entry of ours for it) with what the translation
// says, leaving entries of other Gateways and other controllers alone. Routes are written
// only when their status changed.
func (r *GatewayReconciler) writeRouteStatuses(ctx context.Context, gw *gwapiv1.Gateway, statuses []translator.RouteStatus) error {
	want := map[client.ObjectKey][]gwapiv1.RouteParentStatus{}
	for _, s := range statuses {
		want[client.ObjectKey{Namespace: s.Namespace, Name: s.Name}] = s.Parents
	}
	var routes gwapiv1.HTTPRouteList
	if err := r.List(ctx, &routes, client.MatchingFields{indexRouteGateways: client.ObjectKeyFromObject(gw).String()}); err != nil {
		return fmt.Errorf("listing HTTPRoutes: %w", err)
	}
	for i := range routes.Items {
		rt := &routes.Items[i]
		next := mergeParents(rt.Status.Parents, want[client.ObjectKeyFromObject(rt)], gw, r.ControllerName, rt.Namespace)
		if equality.Semantic.DeepEqual(rt.Status.Parents, next) {
			continue
		}
		rt.Status.Parents = next
		if err := r.Status().Update(ctx, rt); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("writing the status of HTTPRoute %s/%s: %w", rt.Namespace, rt.Name, err)
		}
	}
	return nil
}

// mergeParents keeps the entries that are not this controller's for gw, then adds the
// desired ones, keeping the LastTransitionTime of conditions that did not change.
func mergeParents(current, desired []gwapiv1.RouteParentStatus, gw *gwapiv1.Gateway, controller gwapiv1.GatewayController, routeNS string) []gwapiv1.RouteParentStatus {
	var out []gwapiv1.RouteParentStatus
	previous := map[int]gwapiv1.RouteParentStatus{}
	for _, p := range current {
		if p.ControllerName == controller && refersTo(p.ParentRef, gw, routeNS) {
			for i, d := range desired {
				if reflect.DeepEqual(d.ParentRef, p.ParentRef) {
					previous[i] = p
				}
			}
			continue
		}
		out = append(out, p)
	}
	for i, d := range desired {
		conds := []metav1.Condition{}
		if prev, ok := previous[i]; ok {
			conds = append(conds, prev.Conditions...)
		}
		for _, c := range d.Conditions {
			meta.SetStatusCondition(&conds, c)
		}
		d.Conditions = conds
		out = append(out, d)
	}
	return out
}

// refersTo reports whether a parentRef of a route in routeNS names gw.
func refersTo(ref gwapiv1.ParentReference, gw *gwapiv1.Gateway, routeNS string) bool {
	if (ref.Group != nil && *ref.Group != gwapiv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
		return false
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

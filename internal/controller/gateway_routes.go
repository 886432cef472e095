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
	var routes gwapiv1.HTTPRouteList
	if err := r.List(ctx, &routes, client.MatchingFields{indexRouteGateways: client.ObjectKeyFromObject(gw).String()}); err != nil {
		return fmt.Errorf("listing HTTPRoutes: %w", err)
	}
	items := make([]routeParents, len(routes.Items))
	for i := range routes.Items {
		items[i] = routeParents{obj: &routes.Items[i], parents: &routes.Items[i].Status.Parents}
	}
	return r.writeParents(ctx, gw, "HTTPRoute", statuses, items)
}

// routeParents is a route of any kind with its status parent entries.
type routeParents struct {
	obj     client.Object
	parents *[]gwapiv1.RouteParentStatus
}

// writeParents merges the statuses of kind into routes (all of that kind) and writes
// those whose parent entries changed.
func (r *GatewayReconciler) writeParents(ctx context.Context, gw *gwapiv1.Gateway, kind string, statuses []translator.RouteStatus, routes []routeParents) error {
	want := map[client.ObjectKey][]gwapiv1.RouteParentStatus{}
	for _, s := range statuses {
		if s.Kind == kind {
			want[client.ObjectKey{Namespace: s.Namespace, Name: s.Name}] = s.Parents
		}
	}
	for _, rt := range routes {
		key := client.ObjectKeyFromObject(rt.obj)
		next := mergeParents(*rt.parents, want[key], gw, r.ControllerName, key.Namespace)
		if equality.Semantic.DeepEqual(*rt.parents, next) {
			continue
		}
		*rt.parents = next
		if err := r.Status().Update(ctx, rt.obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("writing the status of %s %s: %w", kind, key, err)
		}
	}
	return nil
}

// mergeParents keeps the entries that are not this controller's for gw, then adds the
// desired ones, keeping the LastTransitionTime of conditions that did not change.
func mergeParents(current, desired []gwapiv1.RouteParentStatus, gw *gwapiv1.Gateway, controller gwapiv1.GatewayController, routeNS string) []gwapiv1.RouteParentStatus {
	// Never nil: status.parents is required, and a null list fails validation when the
	// last entry is removed.
	out := []gwapiv1.RouteParentStatus{}
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

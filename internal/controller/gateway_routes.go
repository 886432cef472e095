package controller

import (
	"context"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// writeRouteStatuses states to the route status writer (RouteStatusReconciler) what
// this Gateway's parent entries are in the status of every route, of every kind served,
// that names it or one of its ListenerSets sets (or still carries an entry of ours for
// it), as the translation says. The
// writer replaces those entries, leaving entries of other Gateways and other controllers
// alone. loaded are the routes the translation read (translationInput); nil lists them.
func (r *GatewayReconciler) writeRouteStatuses(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, statuses []translator.RouteStatus, loaded routeKeys) error {
	for _, k := range r.routeKinds {
		keys, ok := loaded[k.kind()]
		if !ok {
			// The cache's own objects, read only, for their keys.
			routes, err := r.routesOf(ctx, k, routeParentKeys(gw, sets))
			if err != nil {
				return err
			}
			items := k.items(routes)
			keys = make([]client.ObjectKey, len(items))
			for i, rt := range items {
				keys[i] = client.ObjectKeyFromObject(rt)
			}
		}
		r.wantParents(gw, sets, k.kind(), statuses, keys)
	}
	return nil
}

// wantParents states this Gateway's parent entries for the routes of kind named by keys:
// those of statuses, none for routes statuses do not name.
func (r *GatewayReconciler) wantParents(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, kind string, statuses []translator.RouteStatus, keys []client.ObjectKey) {
	setKeys := make([]types.NamespacedName, len(sets))
	for i := range sets {
		setKeys[i] = client.ObjectKeyFromObject(&sets[i])
	}
	r.RouteStatus.WantAll(kind, client.ObjectKeyFromObject(gw), setKeys, statuses, keys)
}

// mergeParents keeps the entries that are not this controller's for gw or for one of
// its ListenerSets sets, then adds the desired ones, keeping the LastTransitionTime of
// conditions that did not change.
func mergeParents(current, desired []gwapiv1.RouteParentStatus, gw types.NamespacedName, sets []types.NamespacedName, controller gwapiv1.GatewayController, routeNS string) []gwapiv1.RouteParentStatus {
	// Never nil: status.parents is required, and a null list fails validation when the
	// last entry is removed.
	out := []gwapiv1.RouteParentStatus{}
	previous := map[int]gwapiv1.RouteParentStatus{}
	for _, p := range current {
		if p.ControllerName == controller && (refersTo(p.ParentRef, gw, routeNS) || refersToListenerSet(p.ParentRef, sets, routeNS)) {
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
func refersTo(ref gwapiv1.ParentReference, gw types.NamespacedName, routeNS string) bool {
	if (ref.Group != nil && *ref.Group != gwapiv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
		return false
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

// refersToListenerSet reports whether a parentRef of a route in routeNS names one of sets.
func refersToListenerSet(ref gwapiv1.ParentReference, sets []types.NamespacedName, routeNS string) bool {
	if ref.Group == nil || *ref.Group != gwapiv1.GroupName || ref.Kind == nil || *ref.Kind != "ListenerSet" {
		return false
	}
	key := types.NamespacedName{Namespace: routeNS, Name: string(ref.Name)}
	if ref.Namespace != nil {
		key.Namespace = string(*ref.Namespace)
	}
	return slices.Contains(sets, key)
}

package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// ListenerSets are read, and their statuses written, for the Gateways they attach to.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=listenersets,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=listenersets/status,verbs=patch

const (
	// indexListenerSetGateway indexes ListenerSets by the "namespace/name" of the
	// Gateway their parentRef names.
	indexListenerSetGateway = "caddygateway.io/listenerset-gateway"
	// indexListenerSetSecrets indexes ListenerSets by the "namespace/name" of the Secrets
	// their listeners' certificateRefs name.
	indexListenerSetSecrets = "caddygateway.io/listenerset-secrets"
	// indexListenerSetFilterServices indexes ListenerSets by the "namespace/name" of the
	// Services their listeners' ExternalAuth filters ask.
	indexListenerSetFilterServices = "caddygateway.io/listenerset-filter-services"
	// listenerSetKeyPrefix marks, among the keys of a route's Gateways index
	// (routeKind.gatewayKeys), the "namespace/name" of a ListenerSet it names: no
	// namespace name holds a colon.
	listenerSetKeyPrefix = "ListenerSet:"
)

// listenerSetsServed reports whether the cluster serves ListenerSets; without the CRD,
// Gateways get no listeners but their own, with a log line.
func listenerSetsServed(mapper meta.RESTMapper, log logr.Logger) (bool, error) {
	gv := gwapiv1.GroupVersion
	_, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: "ListenerSet"}, gv.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		log.Info("ListenerSets not served: their CRD is not installed", "apiVersion", gv.String())
		return false, nil
	}
	return false, fmt.Errorf("looking up the API of ListenerSet: %w", err)
}

// setupListenerSetIndexes registers the field indexes of ListenerSets.
func setupListenerSetIndexes(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &gwapiv1.ListenerSet{}, indexListenerSetGateway, func(o client.Object) []string {
		return []string{parentGatewayKey(o.(*gwapiv1.ListenerSet)).String()}
	}); err != nil {
		return fmt.Errorf("indexing ListenerSets by Gateway: %w", err)
	}
	if err := idx.IndexField(ctx, &gwapiv1.ListenerSet{}, indexListenerSetSecrets, func(o client.Object) []string {
		return keyStrings(listenerSetSecretKeys(o.(*gwapiv1.ListenerSet)))
	}); err != nil {
		return fmt.Errorf("indexing ListenerSets by Secret: %w", err)
	}
	if err := idx.IndexField(ctx, &gwapiv1.ListenerSet{}, indexListenerSetFilterServices, func(o client.Object) []string {
		ls := o.(*gwapiv1.ListenerSet)
		return keyStrings(listenerFilterServiceKeys(ls.Namespace, setListeners(ls)))
	}); err != nil {
		return fmt.Errorf("indexing ListenerSets by listener filter Service: %w", err)
	}
	return nil
}

// parentGatewayKey is the key of the Gateway a ListenerSet's parentRef names (its
// namespace defaults to the set's).
func parentGatewayKey(ls *gwapiv1.ListenerSet) client.ObjectKey {
	key := client.ObjectKey{Namespace: ls.Namespace, Name: string(ls.Spec.ParentRef.Name)}
	if ls.Spec.ParentRef.Namespace != nil {
		key.Namespace = string(*ls.Spec.ParentRef.Namespace)
	}
	return key
}

// setListeners are a ListenerSet's listeners as a Gateway's.
func setListeners(ls *gwapiv1.ListenerSet) []gwapiv1.Listener {
	listeners := make([]gwapiv1.Listener, len(ls.Spec.Listeners))
	for i, e := range ls.Spec.Listeners {
		listeners[i] = gwapiv1.Listener(e)
	}
	return listeners
}

// listenerSetSecretKeys are the distinct Secrets a ListenerSet's certificateRefs name.
func listenerSetSecretKeys(ls *gwapiv1.ListenerSet) []client.ObjectKey {
	return certificateRefKeys(ls.Namespace, setListeners(ls))
}

// listenerSetsOf reads the ListenerSets whose parentRef names gw (none when the cluster
// does not serve ListenerSets). They are the cache's own objects: read only.
func (r *GatewayReconciler) listenerSetsOf(ctx context.Context, gw *gwapiv1.Gateway) ([]gwapiv1.ListenerSet, error) {
	if !r.listenerSets {
		return nil, nil
	}
	var sets gwapiv1.ListenerSetList
	if err := r.List(ctx, &sets, client.MatchingFields{indexListenerSetGateway: client.ObjectKeyFromObject(gw).String()},
		client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing ListenerSets: %w", err)
	}
	return sets.Items, nil
}

// routeParentKeys are the keys under which routes naming gw, or one of its ListenerSets
// sets, are indexed (routeKind.gatewayKeys).
func routeParentKeys(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) []string {
	keys := make([]string, 0, 1+len(sets))
	keys = append(keys, client.ObjectKeyFromObject(gw).String())
	for i := range sets {
		keys = append(keys, listenerSetKeyPrefix+client.ObjectKeyFromObject(&sets[i]).String())
	}
	return keys
}

// gatewaysOfListenerSet maps a ListenerSet to the Gateway its parentRef names (on an
// update, the handler maps the old object too: a set moved away is dropped there).
func (r *GatewayReconciler) gatewaysOfListenerSet(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: parentGatewayKey(o.(*gwapiv1.ListenerSet))}}
}

// gatewaysOfListenerSetSecret maps a Secret to the Gateways of the ListenerSets whose
// certificateRefs name it.
func (r *GatewayReconciler) gatewaysOfListenerSetSecret(ctx context.Context, key string) []reconcile.Request {
	return r.gatewaysOfListenerSetsBy(ctx, indexListenerSetSecrets, key)
}

// gatewaysOfListenerSetsBy maps the key of an object to the Gateways of the ListenerSets
// that index lists under it.
func (r *GatewayReconciler) gatewaysOfListenerSetsBy(ctx context.Context, index, key string) []reconcile.Request {
	if !r.listenerSets {
		return nil
	}
	var sets gwapiv1.ListenerSetList
	if err := r.List(ctx, &sets, client.MatchingFields{index: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing ListenerSets", "index", index, "key", key)
		return nil
	}
	var reqs []reconcile.Request
	for i := range sets.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: parentGatewayKey(&sets.Items[i])})
	}
	return reqs
}

// requestsOfRouteKeys maps the keys of a route's Gateways index to the Gateways: those
// of ListenerSets to the Gateway the set names (a set not in the cache maps to none).
func (r *GatewayReconciler) requestsOfRouteKeys(ctx context.Context, keys []string) []reconcile.Request {
	var gws []string
	for _, k := range keys {
		setKey, ok := strings.CutPrefix(k, listenerSetKeyPrefix)
		if !ok {
			gws = append(gws, k)
			continue
		}
		ns, name, _ := strings.Cut(setKey, "/")
		var ls gwapiv1.ListenerSet
		if !r.listenerSets || r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ls) != nil {
			continue
		}
		gws = append(gws, parentGatewayKey(&ls).String())
	}
	return keysToRequests(gws)
}

// writeListenerSetStatuses writes the status of every ListenerSet that names gw, as the
// translation decided it, with Programmed conditions carried over from the Gateway's
// (programmed). A status is written only when it changed; conditions that did not
// change keep their LastTransitionTime. A write that would change only its listeners'
// attachedRoutes waits out countsInterval, as a Gateway's does: the longest time left is
// returned, after which the Gateway must be reconciled again.
func (r *GatewayReconciler) writeListenerSetStatuses(ctx context.Context, sets []translator.ListenerSetStatus, programmed metav1.Condition) (time.Duration, error) {
	var later time.Duration
	for _, want := range sets {
		var ls gwapiv1.ListenerSet
		key := client.ObjectKey{Namespace: want.Namespace, Name: want.Name}
		if err := r.Get(ctx, key, &ls); err != nil {
			if client.IgnoreNotFound(err) == nil {
				r.setStatusTimes.forget(key)
				continue
			}
			return 0, fmt.Errorf("reading ListenerSet %s/%s: %w", want.Namespace, want.Name, err)
		}
		if ls.Generation != want.Generation {
			// A newer spec is on its way: its reconcile writes the status.
			continue
		}
		next := listenerSetStatus(ls.Status, want, programmed)
		if equality.Semantic.DeepEqual(ls.Status, next) {
			continue
		}
		if countsOnly(&ls.Status, &next, zeroListenerSetCounts) {
			if wait := r.setStatusTimes.countsWait(key); wait > 0 {
				later = max(later, wait)
				continue
			}
		}
		patch := client.MergeFromWithOptions(ls.DeepCopy(), client.MergeFromWithOptimisticLock{})
		ls.Status = next
		if err := r.Status().Patch(ctx, &ls, patch); err != nil {
			if client.IgnoreNotFound(err) == nil {
				r.setStatusTimes.forget(key)
				continue
			}
			return 0, fmt.Errorf("writing the status of ListenerSet %s/%s: %w", want.Namespace, want.Name, err)
		}
		r.setStatusTimes.wrote(key)
	}
	return later, nil
}

// listenerSetStatus merges the translation's status of a ListenerSet and the Programmed
// conditions into its current status; an optional listener condition of ours the
// translation no longer gives is removed.
func listenerSetStatus(current gwapiv1.ListenerSetStatus, want translator.ListenerSetStatus, programmed metav1.Condition) gwapiv1.ListenerSetStatus {
	next := *current.DeepCopy()
	status.Merge(&next.Conditions, want.Accepted, status.ListenerSetProgrammed(want.Accepted, programmed))
	old := map[gwapiv1.SectionName][]metav1.Condition{}
	for _, l := range current.Listeners {
		old[l.Name] = l.Conditions
	}
	next.Listeners = make([]gwapiv1.ListenerEntryStatus, 0, len(want.Listeners))
	for _, l := range want.Listeners {
		conds := append([]metav1.Condition(nil), old[l.Name]...)
		for _, typ := range optionalListenerConditions {
			if meta.FindStatusCondition(l.Conditions, typ) == nil {
				meta.RemoveStatusCondition(&conds, typ)
			}
		}
		accepted := meta.FindStatusCondition(l.Conditions, string(gwapiv1.ListenerEntryConditionAccepted))
		status.Merge(&conds, append(append([]metav1.Condition(nil), l.Conditions...),
			status.ListenerEntryProgrammed(*accepted, programmed))...)
		l.Conditions = conds
		next.Listeners = append(next.Listeners, l)
	}
	return next
}

// routesOf lists the routes of kind k indexed under any of keys (routeParentKeys), each
// once: the cache's own objects, read only. With one key (a Gateway without
// ListenerSets) the list is the cache's answer as it is.
func (r *GatewayReconciler) routesOf(ctx context.Context, k routeKind, keys []string) (client.ObjectList, error) {
	routes := k.newList()
	if err := r.List(ctx, routes, client.MatchingFields{k.indexGateways(): keys[0]}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing %ss: %w", k.kind(), err)
	}
	if len(keys) == 1 {
		return routes, nil
	}
	items := k.items(routes)
	seen := make(map[client.ObjectKey]bool, len(items))
	all := make([]runtime.Object, 0, len(items))
	for _, rt := range items {
		seen[client.ObjectKeyFromObject(rt)] = true
		all = append(all, rt)
	}
	for _, key := range keys[1:] {
		more := k.newList()
		if err := r.List(ctx, more, client.MatchingFields{k.indexGateways(): key}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", k.kind(), err)
		}
		for _, rt := range k.items(more) {
			if !seen[client.ObjectKeyFromObject(rt)] {
				seen[client.ObjectKeyFromObject(rt)] = true
				all = append(all, rt)
			}
		}
	}
	if err := meta.SetList(routes, all); err != nil {
		return nil, fmt.Errorf("listing %ss: %w", k.kind(), err)
	}
	return routes, nil
}

// attachedListenerSets is the Gateway's status.attachedListenerSets: the number of
// ListenerSets attached, nil for none.
func attachedListenerSets(out translator.Output) *int32 {
	if out.AttachedListenerSets == 0 {
		return nil
	}
	n := out.AttachedListenerSets
	return &n
}

// refuseListenerSets marks every ListenerSet that names gw (sets: listenerSetsOf) not
// accepted (ParentNotAccepted, with why the Gateway is not: message), while gw is not
// accepted.
func (r *GatewayReconciler) refuseListenerSets(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, message string) error {
	wants := make([]translator.ListenerSetStatus, 0, len(sets))
	for i := range sets {
		ls := &sets[i]
		wants = append(wants, translator.ListenerSetStatus{
			Namespace: ls.Namespace, Name: ls.Name, Generation: ls.Generation,
			Accepted: status.ListenerSetAccepted(ls.Generation, gwapiv1.ListenerSetReasonParentNotAccepted,
				fmt.Sprintf("Gateway %s/%s is not accepted: %s", gw.Namespace, gw.Name, message)),
			Listeners: []gwapiv1.ListenerEntryStatus{},
		})
	}
	// A refusal changes the sets' conditions, and is never held back: no time is left.
	_, err := r.writeListenerSetStatuses(ctx, wants, notProgrammedInvalid(gw.Generation))
	return err
}

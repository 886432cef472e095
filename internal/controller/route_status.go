package controller

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeKey names a route of any kind.
type routeKey struct {
	Kind, Namespace, Name string
}

func (k routeKey) String() string { return k.Kind + " " + k.Namespace + "/" + k.Name }

const (
	// routeStatusWorkers is how many route statuses are written at once.
	routeStatusWorkers = 8
	// cacheLag is how long a route waits for the cache to bring a newer version of it:
	// after a write of ours, or a write of ours that lost to someone else's.
	cacheLag = 100 * time.Millisecond
)

// RouteStatusReconciler keeps the parent entries that Gateways want in the statuses of
// their routes. A Gateway's reconcile only states what it wants (Want) and goes on to
// its next push: after a burst of a thousand new routes, writing their statuses one by
// one would otherwise hold the Gateway's next configuration back for as long as the
// API client's rate limit takes to let them through.
//
// What each Gateway wants is kept, so the writer also puts it back when anyone changes
// a route's status; and it never decides on a cached route older than its own last
// write to it.
type RouteStatusReconciler struct {
	// Client reads routes from the manager's cache; Setup gives it connections and a
	// rate limit of its own (newRouteStatusClient), so that a burst of status writes never
	// queues the Gateway reconciles' requests behind it.
	client.Client
	// ControllerName marks the parent entries this operator owns.
	ControllerName gwapiv1.GatewayController

	// routeKinds are the route kinds whose changes are watched (Setup: the installed ones).
	routeKinds routeKinds
	// hold holds writes while routes of their Gateways change in a burst (statusHoldMax).
	hold statusHold

	mu sync.Mutex
	// wants holds, per route, each Gateway's entries. A want dropped or replaced is
	// marked gone.
	wants map[routeKey]map[types.NamespacedName]*routeWant
	// statements holds what each Gateway last stated for the routes of each kind
	// (WantAll).
	statements map[statementKey]*statement
	// seq numbers the wants, so that a write forgets only what it wrote.
	seq uint64
	// queue is the controller's queue once it runs.
	queue workqueue.TypedRateLimitingInterface[routeKey]
	// replaced holds, per route written, the resourceVersion the write replaced, until
	// the cache has moved past it: a cache still holding it has not seen the write.
	replaced sync.Map // routeKey → string
}

// routeWant is one Gateway's parent entries for one route.
type routeWant struct {
	parents []gwapiv1.RouteParentStatus
	// sets are the ListenerSets that name the Gateway: entries of ours for parentRefs
	// to them are the Gateway's too.
	sets []types.NamespacedName
	seq  uint64
	// gone says the want is no longer in wants: dropped or replaced. Guarded by mu,
	// unlike the other fields, which never change.
	gone bool
}

// Want states that gw wants parents (possibly none) as its entries in the route's
// status, in place of its earlier entries: those for parentRefs to gw and to its
// ListenerSets sets. A change from what it wanted before queues the route, which is
// written if its status differs.
func (r *RouteStatusReconciler) Want(route routeKey, gw types.NamespacedName, parents []gwapiv1.RouteParentStatus, sets ...types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want(route, gw, parents, sets)
}

// want is Want with mu held; it returns the want kept for gw, new or unchanged.
func (r *RouteStatusReconciler) want(route routeKey, gw types.NamespacedName, parents []gwapiv1.RouteParentStatus, sets []types.NamespacedName) *routeWant {
	cur, ok := r.wants[route][gw]
	if ok && parentsEqual(cur.parents, parents) && slices.Equal(cur.sets, sets) {
		return cur
	}
	if ok {
		cur.gone = true
	}
	if r.wants == nil {
		r.wants = map[routeKey]map[types.NamespacedName]*routeWant{}
	}
	if r.wants[route] == nil {
		r.wants[route] = map[types.NamespacedName]*routeWant{}
	}
	// Copies: the entries may point into the cache's objects (the translation's input),
	// and writing the status decodes the API server's answer into them.
	own := make([]gwapiv1.RouteParentStatus, len(parents))
	for i := range parents {
		parents[i].DeepCopyInto(&own[i])
	}
	r.seq++
	w := &routeWant{parents: own, sets: slices.Clone(sets), seq: r.seq}
	r.wants[route][gw] = w
	if r.queue != nil {
		r.queue.Add(route)
	}
	return w
}

// ForgetGateway drops everything a deleted Gateway wanted.
func (r *RouteStatusReconciler) ForgetGateway(gw types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for route, w := range r.wants {
		if cur, ok := w[gw]; ok {
			cur.gone = true
			delete(w, gw)
		}
		if len(w) == 0 {
			delete(r.wants, route)
		}
	}
	for key := range r.statements {
		if key.gateway == gw {
			delete(r.statements, key)
		}
	}
	r.queueAll(r.hold.release(gw))
}

// burstOver queues the routes whose status writes waited for the burst of changes to
// gw's routes to end.
func (r *RouteStatusReconciler) burstOver(gw types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queueAll(r.hold.release(gw))
}

// queueAll queues routes once the controller runs; mu must be held.
func (r *RouteStatusReconciler) queueAll(routes []routeKey) {
	if r.queue == nil {
		return
	}
	for _, route := range routes {
		r.queue.Add(route)
	}
}

// snapshot copies what the Gateways want for route.
func (r *RouteStatusReconciler) snapshot(route routeKey) map[types.NamespacedName]*routeWant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.wants[route])
}

// written drops the wants of snap for no entries that nobody replaced since: once
// written, there is nothing left to keep for them.
func (r *RouteStatusReconciler) written(route routeKey, snap map[types.NamespacedName]*routeWant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.wants[route]
	for gw, s := range snap {
		if cur, ok := w[gw]; ok && cur.seq == s.seq && len(s.parents) == 0 {
			cur.gone = true
			delete(w, gw)
		}
	}
	if len(w) == 0 {
		delete(r.wants, route)
	}
}

// forgetRoute drops the wants for a deleted route.
func (r *RouteStatusReconciler) forgetRoute(route routeKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.wants[route] {
		w.gone = true
	}
	delete(r.wants, route)
	r.replaced.Delete(route)
	r.hold.drop(route)
}

// wanted reports whether any Gateway wants something for route.
func (r *RouteStatusReconciler) wanted(route routeKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.wants[route]) > 0
}

// Reconcile writes the wanted entries of one route into its status, replacing the
// entries of this controller for each Gateway that wants something and leaving the
// others alone. It decides on the cached route, never on one older than its own last
// write, and writes only when the entries differ; not while routes of those Gateways
// change in a burst (statusHold).
func (r *RouteStatusReconciler) Reconcile(ctx context.Context, route routeKey) (ctrl.Result, error) {
	snap := r.snapshot(route)
	if len(snap) == 0 {
		r.hold.drop(route) // its Gateways are gone
		return ctrl.Result{}, nil
	}
	gws := slices.SortedFunc(maps.Keys(snap), func(a, b types.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	if wait := r.hold.wait(route, gws); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	obj, parents, err := newRoute(route.Kind)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: route.Namespace, Name: route.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.forgetRoute(route)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if rv, ok := r.replaced.Load(route); ok {
		if rv == obj.GetResourceVersion() {
			return ctrl.Result{RequeueAfter: cacheLag}, nil
		}
		r.replaced.Delete(route)
	}
	next := *parents
	for _, gw := range gws {
		next = mergeParents(next, snap[gw].parents, gw, snap[gw].sets, r.ControllerName, route.Namespace)
	}
	if !equality.Semantic.DeepEqual(*parents, next) {
		*parents = next
		from := obj.GetResourceVersion()
		if err := r.Status().Update(ctx, obj); err != nil {
			if apierrors.IsConflict(err) {
				// The cache is behind a newer write: try again on what it brings.
				return ctrl.Result{RequeueAfter: cacheLag}, nil
			}
			if apierrors.IsNotFound(err) {
				r.forgetRoute(route)
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing the status of %s: %w", route, err)
		}
		r.replaced.Store(route, from)
	}
	r.written(route, snap)
	return ctrl.Result{}, nil
}

// newRoute returns an empty route of kind and its status parent entries.
func newRoute(kind string) (client.Object, *[]gwapiv1.RouteParentStatus, error) {
	k, ok := allRouteKinds.byKind(kind)
	if !ok {
		return nil, nil, reconcile.TerminalError(fmt.Errorf("route kind %q is not in the table of route kinds", kind))
	}
	o := k.newRoute()
	_, st := k.common(o)
	return o, &st.Parents, nil
}

// SetupWithManager runs the route status writers: routeStatusWorkers goroutines fed by
// Want and by every change to a route, of the kinds in routeKinds, something is wanted
// for (its status included), with the manager's retries and backoff.
func (r *RouteStatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := builder.TypedControllerManagedBy[routeKey](mgr).
		Named("routestatus").
		WithOptions(controller.TypedOptions[routeKey]{MaxConcurrentReconciles: routeStatusWorkers}).
		WatchesRawSource(source.TypedFunc[routeKey](func(_ context.Context, q workqueue.TypedRateLimitingInterface[routeKey]) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.queue = q
			r.queueAll(slices.Collect(maps.Keys(r.wants)))
			return nil
		}))
	for _, k := range r.routeKinds {
		b = b.WatchesRawSource(source.TypedKind(mgr.GetCache(), k.newRoute(),
			handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []routeKey {
				return r.ifWanted(routeKey{Kind: k.kind(), Namespace: o.GetNamespace(), Name: o.GetName()})
			})))
	}
	return b.Complete(r)
}

func (r *RouteStatusReconciler) ifWanted(route routeKey) []routeKey {
	if r.wanted(route) {
		return []routeKey{route}
	}
	return nil
}

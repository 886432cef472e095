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
	routeStatusWorkers = 4
	// cacheLag is how long a route waits for the cache to bring a newer version of it:
	// after a write of ours, or a write of ours that lost to someone else's.
	cacheLag = 100 * time.Millisecond
)

// RouteStatusReconciler writes the parent entries that Gateways want in the statuses of
// their routes. A Gateway's reconcile only records what it wants (Want) and goes on to
// its next push: after a burst of a thousand new routes, writing their statuses one by
// one would otherwise hold the Gateway's next configuration back for as long as the
// API server's rate limit takes to let them through.
type RouteStatusReconciler struct {
	client.Client
	// ControllerName marks the parent entries this operator owns.
	ControllerName gwapiv1.GatewayController

	mu sync.Mutex
	// wants holds, per route, each Gateway's entries until they are written.
	wants map[routeKey]map[types.NamespacedName]routeWant
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
	seq     uint64
}

// Want records that gw wants parents (possibly none) as its entries in the route's
// status, replacing what it wanted before, and queues the route. The route is written
// only if its status differs.
func (r *RouteStatusReconciler) Want(route routeKey, gw types.NamespacedName, parents []gwapiv1.RouteParentStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wants == nil {
		r.wants = map[routeKey]map[types.NamespacedName]routeWant{}
	}
	if r.wants[route] == nil {
		r.wants[route] = map[types.NamespacedName]routeWant{}
	}
	// Copies: the entries may point into the cache's objects (the translation's input),
	// and writing the status decodes the API server's answer into them.
	own := make([]gwapiv1.RouteParentStatus, len(parents))
	for i := range parents {
		parents[i].DeepCopyInto(&own[i])
	}
	r.seq++
	r.wants[route][gw] = routeWant{parents: own, seq: r.seq}
	if r.queue != nil {
		r.queue.Add(route)
	}
}

// ForgetGateway drops everything a deleted Gateway wanted.
func (r *RouteStatusReconciler) ForgetGateway(gw types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for route, w := range r.wants {
		delete(w, gw)
		if len(w) == 0 {
			delete(r.wants, route)
		}
	}
}

// snapshot copies what the Gateways want for route.
func (r *RouteStatusReconciler) snapshot(route routeKey) map[types.NamespacedName]routeWant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.wants[route])
}

// done drops the wants of snap that nobody replaced since.
func (r *RouteStatusReconciler) done(route routeKey, snap map[types.NamespacedName]routeWant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.wants[route]
	for gw, s := range snap {
		if cur, ok := w[gw]; ok && cur.seq == s.seq {
			delete(w, gw)
		}
	}
	if len(w) == 0 {
		delete(r.wants, route)
	}
}

// Reconcile writes the wanted entries of one route into its status, replacing the
// entries of this controller for each Gateway that wants something and leaving the
// others alone. It decides on the cached route, never on one older than its own last
// write, and writes only when the entries differ.
func (r *RouteStatusReconciler) Reconcile(ctx context.Context, route routeKey) (ctrl.Result, error) {
	snap := r.snapshot(route)
	if len(snap) == 0 {
		return ctrl.Result{}, nil
	}
	obj, parents := newRoute(route.Kind)
	if err := r.Get(ctx, types.NamespacedName{Namespace: route.Namespace, Name: route.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.done(route, snap)
			r.replaced.Delete(route)
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
	gws := slices.SortedFunc(maps.Keys(snap), func(a, b types.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for _, gw := range gws {
		next = mergeParents(next, snap[gw].parents, gw, r.ControllerName, route.Namespace)
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
				r.done(route, snap)
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing the status of %s: %w", route, err)
		}
		r.replaced.Store(route, from)
	}
	r.done(route, snap)
	return ctrl.Result{}, nil
}

// newRoute returns an empty route of kind and its status parent entries.
func newRoute(kind string) (client.Object, *[]gwapiv1.RouteParentStatus) {
	if kind == "GRPCRoute" {
		o := &gwapiv1.GRPCRoute{}
		return o, &o.Status.Parents
	}
	o := &gwapiv1.HTTPRoute{}
	return o, &o.Status.Parents
}

// SetupWithManager runs the route status writers: routeStatusWorkers goroutines fed by
// Want, with the manager's retries and backoff.
func (r *RouteStatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return builder.TypedControllerManagedBy[routeKey](mgr).
		Named("routestatus").
		WithOptions(controller.TypedOptions[routeKey]{MaxConcurrentReconciles: routeStatusWorkers}).
		WatchesRawSource(source.TypedFunc[routeKey](func(_ context.Context, q workqueue.TypedRateLimitingInterface[routeKey]) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.queue = q
			for route := range r.wants {
				q.Add(route)
			}
			return nil
		})).
		Complete(r)
}

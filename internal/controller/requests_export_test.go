package controller

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/pusher"
)

// Requests are what a reconcile asked of its client and API reader, counted by
// "verb Kind": "list ListenerSet" (the manager's client: the cache), "create Service
// dry-run", "get IPAddress from the API server" (the API reader); and the work its memos
// did not spare (WorkAdminCertificates, WorkAdminClientTLS).
type Requests map[string]int

// WorkAdminCertificates and WorkAdminClientTLS count, in Requests, the full checks of a
// Gateway's admin Secrets and the builds of its admin client TLS configuration.
const (
	WorkAdminCertificates = workAdminCertificates
	WorkAdminClientTLS    = workAdminClientTLS
)

// CountingReconciler is a GatewayReconciler set up as Setup sets up the manager's, whose
// client and API reader count the requests of each reconcile. It keeps its own memos
// from one reconcile to the next, as the manager's does.
type CountingReconciler struct {
	r        *GatewayReconciler
	mu       sync.Mutex
	requests Requests
}

// NewCountingReconciler builds a CountingReconciler on mgr's client, API reader and
// recorder, with the options o of Setup.
func NewCountingReconciler(mgr ctrl.Manager, o Options) (*CountingReconciler, error) {
	log := mgr.GetLogger().WithName("counting")
	kinds, err := installedRouteKinds(mgr.GetRESTMapper(), log)
	if err != nil {
		return nil, err
	}
	backendTLS, err := servedBackendTLSAPIs(mgr.GetRESTMapper(), log)
	if err != nil {
		return nil, err
	}
	listenerSets, err := listenerSetsServed(mgr.GetRESTMapper(), log)
	if err != nil {
		return nil, err
	}
	c := &CountingReconciler{requests: Requests{}}
	c.r = &GatewayReconciler{
		Client:    &countingClient{Client: mgr.GetClient(), count: c.count},
		APIReader: &countingAPIReader{Reader: mgr.GetAPIReader(), scheme: mgr.GetScheme(), count: c.count},
		Recorder:  mgr.GetEventRecorder("caddy-gateway-operator"),
		Pusher:    pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: o.PushTimeout}}),
		// Without a queue: the route statuses it wants are not written.
		RouteStatus:    &RouteStatusReconciler{ControllerName: o.ControllerName, routeKinds: kinds},
		ControllerName: o.ControllerName, CaddyImage: o.CaddyImage, OperatorImage: o.OperatorImage, Operator: o.Operator,
		MountGrace: o.MountGrace, routeKinds: kinds, backendTLS: backendTLS, listenerSets: listenerSets,
		observeWork: c.count,
	}
	return c, nil
}

// Reconcile reconciles the Gateway key once and returns the requests it made.
func (c *CountingReconciler) Reconcile(ctx context.Context, key types.NamespacedName) (Requests, error) {
	c.mu.Lock()
	c.requests = Requests{}
	c.mu.Unlock()
	_, err := c.r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, err
}

func (c *CountingReconciler) count(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests[what]++
}

// kindOf is obj's kind, that of its items for a list.
func kindOf(scheme *runtime.Scheme, obj runtime.Object) string {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return "unknown"
	}
	if _, ok := obj.(client.ObjectList); ok {
		return strings.TrimSuffix(gvk.Kind, "List")
	}
	return gvk.Kind
}

// countingClient counts the reads and writes of a client.
type countingClient struct {
	client.Client
	count func(string)
}

func (c *countingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.count("get " + kindOf(c.Scheme(), obj))
	return c.Client.Get(ctx, key, obj, opts...)
}

func (c *countingClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.count("list " + kindOf(c.Scheme(), list))
	return c.Client.List(ctx, list, opts...)
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	co := &client.CreateOptions{}
	co.ApplyOptions(opts)
	what := "create " + kindOf(c.Scheme(), obj)
	if len(co.DryRun) > 0 {
		what += " dry-run"
	}
	c.count(what)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.count("patch " + kindOf(c.Scheme(), obj))
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.count("update " + kindOf(c.Scheme(), obj))
	return c.Client.Update(ctx, obj, opts...)
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.count("delete " + kindOf(c.Scheme(), obj))
	return c.Client.Delete(ctx, obj, opts...)
}

// countingAPIReader counts the reads from the API server.
type countingAPIReader struct {
	client.Reader
	scheme *runtime.Scheme
	count  func(string)
}

func (c *countingAPIReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.count("get " + kindOf(c.scheme, obj) + " from the API server")
	return c.Reader.Get(ctx, key, obj, opts...)
}

func (c *countingAPIReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.count("list " + kindOf(c.scheme, list) + " from the API server")
	return c.Reader.List(ctx, list, opts...)
}

// AdminClientTLS is the admin client TLS configuration c's reconciler has for gw.
func (c *CountingReconciler) AdminClientTLS(ctx context.Context, gw *gwapiv1.Gateway) (*tls.Config, string, error) {
	return c.r.adminClientTLS(ctx, gw)
}

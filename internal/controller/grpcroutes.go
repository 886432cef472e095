package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes/status,verbs=update

// GRPCRoute field indexes, the counterparts of indexRouteGateways and indexRouteBackends.
const (
	// indexGRPCRouteGateways indexes GRPCRoutes by the "namespace/name" of the Gateways
	// they name in parentRefs or carry a status entry of this operator for.
	indexGRPCRouteGateways = "caddygateway.io/grpcroute-gateways"
	// indexGRPCRouteBackends indexes GRPCRoutes by the "namespace/name" of their backend Services.
	indexGRPCRouteBackends = "caddygateway.io/grpcroute-backends"
)

// setupGRPCRouteIndexes registers the GRPCRoute field indexes.
func setupGRPCRouteIndexes(ctx context.Context, idx client.FieldIndexer, controller gwapiv1.GatewayController) error {
	if err := idx.IndexField(ctx, &gwapiv1.GRPCRoute{}, indexGRPCRouteGateways, func(o client.Object) []string {
		return grpcRouteGatewayKeys(o.(*gwapiv1.GRPCRoute), controller)
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &gwapiv1.GRPCRoute{}, indexGRPCRouteBackends, func(o client.Object) []string {
		keys := grpcRouteBackendKeys(o.(*gwapiv1.GRPCRoute))
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, k.String())
		}
		return out
	})
}

// grpcRouteGatewayKeys are the Gateways a GRPCRoute names or has status entries of ours for.
func grpcRouteGatewayKeys(rt *gwapiv1.GRPCRoute, controller gwapiv1.GatewayController) []string {
	// The key logic only reads namespace, parentRefs and status parents: reuse it.
	return routeGatewayKeys(&gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: rt.Namespace},
		Spec:       gwapiv1.HTTPRouteSpec{CommonRouteSpec: rt.Spec.CommonRouteSpec},
		Status:     gwapiv1.HTTPRouteStatus{RouteStatus: rt.Status.RouteStatus},
	}, controller)
}

// grpcRouteBackendKeys are the Services a GRPCRoute's rules send traffic to: backendRefs
// and the backends of RequestMirror filters, on rules and on backendRefs.
func grpcRouteBackendKeys(rt *gwapiv1.GRPCRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	mirrors := func(fs []gwapiv1.GRPCRouteFilter) {
		for _, f := range fs {
			if f.Type == gwapiv1.GRPCRouteFilterRequestMirror && f.RequestMirror != nil {
				keys = appendServiceKey(keys, rt.Namespace, &f.RequestMirror.BackendRef)
			}
		}
	}
	for _, rule := range rt.Spec.Rules {
		mirrors(rule.Filters)
		for _, b := range rule.BackendRefs {
			keys = appendServiceKey(keys, rt.Namespace, &b.BackendObjectReference)
			mirrors(b.Filters)
		}
	}
	return keys
}

// gatewaysOfGRPCRoute maps a GRPCRoute to the Gateways it names (or named).
func (r *GatewayReconciler) gatewaysOfGRPCRoute(_ context.Context, o client.Object) []reconcile.Request {
	return keysToRequests(grpcRouteGatewayKeys(o.(*gwapiv1.GRPCRoute), r.ControllerName))
}

// gatewaysOfGRPCBackend maps a Service to the Gateways of the GRPCRoutes that use it.
func (r *GatewayReconciler) gatewaysOfGRPCBackend(ctx context.Context, o client.Object) []reconcile.Request {
	var routes gwapiv1.GRPCRouteList
	if err := r.List(ctx, &routes, client.MatchingFields{indexGRPCRouteBackends: client.ObjectKeyFromObject(o).String()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing GRPCRoutes of a backend", "service", client.ObjectKeyFromObject(o))
		return nil
	}
	var reqs []reconcile.Request
	for i := range routes.Items {
		reqs = append(reqs, r.gatewaysOfGRPCRoute(ctx, &routes.Items[i])...)
	}
	return reqs
}

// addGRPCRouteInputs adds the GRPCRoutes that name gw to in, and their backend Services
// that in does not hold yet (missing ones are left out: BackendNotFound).
func (r *GatewayReconciler) addGRPCRouteInputs(ctx context.Context, gw *gwapiv1.Gateway, in *translator.Input) error {
	var routes gwapiv1.GRPCRouteList
	// The cache's own objects, read only, as in translationInput.
	if err := r.List(ctx, &routes, client.MatchingFields{indexGRPCRouteGateways: client.ObjectKeyFromObject(gw).String()}, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing GRPCRoutes: %w", err)
	}
	in.GRPCRoutes = routes.Items
	seen := map[client.ObjectKey]bool{}
	for i := range in.Services {
		seen[client.ObjectKeyFromObject(&in.Services[i])] = true
	}
	for i := range routes.Items {
		for _, key := range grpcRouteBackendKeys(&routes.Items[i]) {
			if seen[key] {
				continue
			}
			seen[key] = true
			var svc corev1.Service
			if err := r.Get(ctx, key, &svc); err != nil {
				if client.IgnoreNotFound(err) == nil {
					continue
				}
				return fmt.Errorf("reading Service %s: %w", key, err)
			}
			in.Services = append(in.Services, svc)
		}
	}
	return nil
}

// writeGRPCRouteStatuses is writeRouteStatuses for GRPCRoutes.
func (r *GatewayReconciler) writeGRPCRouteStatuses(ctx context.Context, gw *gwapiv1.Gateway, statuses []translator.RouteStatus) error {
	var routes gwapiv1.GRPCRouteList
	if err := r.List(ctx, &routes, client.MatchingFields{indexGRPCRouteGateways: client.ObjectKeyFromObject(gw).String()}, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing GRPCRoutes: %w", err)
	}
	keys := make([]client.ObjectKey, len(routes.Items))
	for i := range routes.Items {
		keys[i] = client.ObjectKeyFromObject(&routes.Items[i])
	}
	r.wantParents(gw, "GRPCRoute", statuses, keys)
	return nil
}

package controller

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
)

// gatewaysOfRoute maps a route of kind k to the Gateways it names (or named: status
// entries), and tells their reconcilePace that a route of theirs changed.
func (r *GatewayReconciler) gatewaysOfRoute(k routeKind) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs := r.requestsOfRouteKeys(ctx, k.gatewayKeys(o, r.ControllerName))
		for _, req := range reqs {
			r.pace.routeChanged(req.NamespacedName)
		}
		return reqs
	}
}

// gatewaysOfBackend maps a Service to the Gateways of the routes, of every kind served,
// that send traffic to it.
func (r *GatewayReconciler) gatewaysOfBackend(ctx context.Context, o client.Object) []reconcile.Request {
	return r.gatewaysOfServiceKey(ctx, client.ObjectKeyFromObject(o))
}

// gatewaysOfServiceKey maps the Service named key to the Gateways of the routes, of
// every kind served, that send traffic to it, and to the Gateways whose listener
// filters, their own or their ListenerSets', ask it.
func (r *GatewayReconciler) gatewaysOfServiceKey(ctx context.Context, key client.ObjectKey) []reconcile.Request {
	reqs := r.gatewaysOfListenerSetsBy(ctx, indexListenerSetFilterServices, key.String())
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayFilterServices: key.String()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of a listener filter Service", "service", key)
	} else {
		reqs = append(reqs, gatewayRequests(gws.Items)...)
	}
	for _, k := range r.routeKinds {
		routes := k.newList()
		if err := r.List(ctx, routes, client.MatchingFields{k.indexBackends(): key.String()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Listing routes of a backend", "kind", k.kind(), "service", key)
			continue
		}
		for _, rt := range k.items(routes) {
			reqs = append(reqs, r.requestsOfRouteKeys(ctx, k.gatewayKeys(rt, r.ControllerName))...)
		}
	}
	return reqs
}

// gatewaysOfSecret maps a Secret to the Gateways whose listeners (their own or their
// ListenerSets') name it in certificateRefs
// or that present it to backends (spec.tls.backend.clientCertificateRef), so that a
// certificate issued or renewed after the Gateway was reconciled is served, and to the
// Gateways whose spec.acme may name it (gatewaysOfACMERef).
func (r *GatewayReconciler) gatewaysOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	reqs := r.gatewaysOfACMERef(ctx, "Secret", o)
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewaySecrets: client.ObjectKeyFromObject(o).String()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of a certificate Secret", "secret", client.ObjectKeyFromObject(o))
		return reqs
	}
	reqs = append(reqs, gatewayRequests(gws.Items)...)
	return append(reqs, r.gatewaysOfListenerSetSecret(ctx, client.ObjectKeyFromObject(o).String())...)
}

// gatewaysOfCAConfigMap maps a ConfigMap to the Gateways whose frontend client-certificate
// validation names it, to the Gateways of the BackendTLSPolicies naming it and to the
// Gateways whose spec.acme may name it (gatewaysOfACMERef), so a CA bundle created or
// rotated later takes effect.
func (r *GatewayReconciler) gatewaysOfCAConfigMap(ctx context.Context, o client.Object) []reconcile.Request {
	key := client.ObjectKeyFromObject(o).String()
	reqs := append(r.gatewaysOfPolicies(ctx, indexPolicyConfigMaps, key), r.gatewaysOfACMERef(ctx, "ConfigMap", o)...)
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayCAConfigMaps: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of a CA ConfigMap", "configMap", key)
		return reqs
	}
	return append(reqs, gatewayRequests(gws.Items)...)
}

// gatewayOfFleetObject maps an object of a Gateway's fleet (a Caddy pod, an admin
// certificate Secret) to its Gateway: the Gateway whose name the object's gateway-name
// label carries (long names are shortened the same way for both).
func (r *GatewayReconciler) gatewayOfFleetObject(ctx context.Context, o client.Object) []reconcile.Request {
	label := o.GetLabels()[infra.LabelGatewayName]
	if label == "" {
		return nil
	}
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of a fleet object", "object", client.ObjectKeyFromObject(o))
		return nil
	}
	var reqs []reconcile.Request
	for _, gw := range gws.Items {
		if infra.SelectorLabels(gw.Name)[infra.LabelGatewayName] == label {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&gw)})
		}
	}
	return reqs
}

// allGateways maps an object that may concern any Gateway (a ReferenceGrant, a
// Namespace's labels) to every Gateway.
func (r *GatewayReconciler) allGateways(ctx context.Context, _ client.Object) []reconcile.Request {
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways")
		return nil
	}
	return gatewayRequests(gws.Items)
}

// Package controller holds the controller-runtime glue of the operator: reconcilers that
// read from the cache, call the pure packages and write the results back. Decisions live
// in the pure packages (params, status, gatewayapi, features), not here.
package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Field indexes the reconcilers use to map related objects to the object they reconcile
// (the route kinds' own are named by their rows: routeKind.indexGateways, indexBackends).
const (
	// indexClassParams indexes GatewayClasses by the "namespace/name" of their CaddyProxyConfig.
	indexClassParams = "caddygateway.io/class-params"
	// indexGatewayClassName indexes Gateways by spec.gatewayClassName.
	indexGatewayClassName = "caddygateway.io/gateway-class-name"
	// indexGatewayParams indexes Gateways by the "namespace/name" of their infrastructure CaddyProxyConfig.
	indexGatewayParams = "caddygateway.io/gateway-params"
	// indexGatewaySecrets indexes Gateways by the "namespace/name" of the Secrets their
	// listeners' certificateRefs and backend client certificate ref name.
	indexGatewaySecrets = "caddygateway.io/gateway-secrets"
	// indexGatewayCAConfigMaps indexes Gateways by the "namespace/name" of the ConfigMaps
	// their frontend client-certificate validation names.
	indexGatewayCAConfigMaps = "caddygateway.io/gateway-ca-configmaps"
	// indexGatewayTrustBundles indexes Gateways by the names of the ClusterTrustBundles
	// their frontend client-certificate validation names.
	indexGatewayTrustBundles = "caddygateway.io/gateway-trust-bundles"
)

// setupIndexes registers the field indexes with the manager's cache: those of each
// route kind in kinds, of BackendTLSPolicies and ListenerSets when served, and the Gateways' and
// GatewayClasses'.
func setupIndexes(ctx context.Context, mgr ctrl.Manager, controller gwapiv1.GatewayController, kinds routeKinds, tls backendTLSAPIs, listenerSets bool) error {
	idx := mgr.GetFieldIndexer()
	if listenerSets {
		if err := setupListenerSetIndexes(ctx, idx); err != nil {
			return err
		}
	}
	if tls.policies {
		if err := setupPolicyIndexes(ctx, idx, controller); err != nil {
			return err
		}
	}
	for _, k := range kinds {
		if err := setupRouteIndexes(ctx, idx, k, controller); err != nil {
			return err
		}
	}
	if err := idx.IndexField(ctx, &gwapiv1.GatewayClass{}, indexClassParams, classParamsKey); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1alpha1.CaddyProxyConfig{}, indexParamsACMERefs, paramsACMERefs); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewayClassName, func(o client.Object) []string {
		return []string{string(o.(*gwapiv1.Gateway).Spec.GatewayClassName)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewayCAConfigMaps, func(o client.Object) []string {
		keys := frontendCAKeys(o.(*gwapiv1.Gateway))
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, k.String())
		}
		return out
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewayTrustBundles, func(o client.Object) []string {
		return frontendTrustBundleNames(o.(*gwapiv1.Gateway))
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewaySecrets, gatewaySecretKeys); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewayFilterServices, gatewayFilterServiceKeys); err != nil {
		return err
	}
	return idx.IndexField(ctx, &gwapiv1.Gateway{}, indexGatewayParams, gatewayParamsKey)
}

// setupRouteIndexes registers the field indexes of the routes of kind k.
func setupRouteIndexes(ctx context.Context, idx client.FieldIndexer, k routeKind, controller gwapiv1.GatewayController) error {
	if err := idx.IndexField(ctx, k.newRoute(), k.indexGateways(), func(o client.Object) []string {
		return k.gatewayKeys(o, controller)
	}); err != nil {
		return fmt.Errorf("indexing %ss by Gateway: %w", k.kind(), err)
	}
	if err := idx.IndexField(ctx, k.newRoute(), k.indexBackends(), func(o client.Object) []string {
		keys := k.backendKeys(o)
		out := make([]string, 0, len(keys))
		for _, key := range keys {
			out = append(out, key.String())
		}
		return out
	}); err != nil {
		return fmt.Errorf("indexing %ss by backend: %w", k.kind(), err)
	}
	return nil
}

func gatewaySecretKeys(o client.Object) []string {
	return keyStrings(gatewaySecretRefs(o.(*gwapiv1.Gateway)))
}

func classParamsKey(o client.Object) []string {
	key, ok, err := params.ClassRef(o.(*gwapiv1.GatewayClass).Spec.ParametersRef)
	if !ok || err != nil {
		return nil
	}
	return []string{key.String()}
}

func gatewayParamsKey(o client.Object) []string {
	gw := o.(*gwapiv1.Gateway)
	infra := gw.Spec.Infrastructure
	if infra == nil || infra.ParametersRef == nil {
		return nil
	}
	ref := infra.ParametersRef
	if string(ref.Group) != v1alpha1.GroupVersion.Group || string(ref.Kind) != v1alpha1.KindCaddyProxyConfig {
		return nil
	}
	return []string{gw.Namespace + "/" + ref.Name}
}

package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// translationInput reads, from the cache, everything the translation of gw may need:
// the routes that name it, their backend Services and the BackendTLSPolicies of those,
// ReferenceGrants, Namespaces, the listeners' certificate Secrets and the backend client
// certificate Secret, the CA ConfigMaps of the frontend validation and of the policies
// (Secrets and ConfigMaps read directly: the cache holds only the operator's own) and
// the ClusterTrustBundles the policies name. Lists are the cache's own objects,
// not copies (a table of thousands of routes would be copied on every reconcile): the
// translation only reads its input (TestGoldenInputUntouched), and nothing else here
// may write to them.
//
// It also returns the keys of the routes it read, by kind, for the statuses the
// translation decides (writeRouteStatuses).
func (r *GatewayReconciler) translationInput(ctx context.Context, gw *gwapiv1.Gateway) (translator.Input, routeKeys, error) {
	in := translator.Input{Gateway: gw, ControllerName: r.ControllerName}
	keys, err := r.addRouteInputs(ctx, gw, &in)
	if err != nil {
		return in, nil, err
	}
	return in, keys, r.addOtherInputs(ctx, gw, &in)
}

// addOtherInputs adds to in what the translation of gw may need besides its routes and
// their backend Services.
func (r *GatewayReconciler) addOtherInputs(ctx context.Context, gw *gwapiv1.Gateway, in *translator.Input) error {
	var grants gwapiv1.ReferenceGrantList
	if err := r.List(ctx, &grants, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing ReferenceGrants: %w", err)
	}
	in.ReferenceGrants = grants.Items
	var namespaces corev1.NamespaceList
	if err := r.List(ctx, &namespaces, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing Namespaces: %w", err)
	}
	in.Namespaces = namespaces.Items
	var err error
	if in.Secrets, err = r.gatewaySecrets(ctx, gw); err != nil {
		return err
	}
	if in.ConfigMaps, err = r.frontendCAConfigMaps(ctx, gw); err != nil {
		return err
	}
	return r.addPolicyInputs(ctx, in)
}

// routeKeys are the keys of routes by kind.
type routeKeys map[string][]client.ObjectKey

// addRouteInputs adds to in the routes of every kind served that name gw, and their
// backend Services, and returns the routes' keys.
func (r *GatewayReconciler) addRouteInputs(ctx context.Context, gw *gwapiv1.Gateway, in *translator.Input) (routeKeys, error) {
	var backends []client.ObjectKey
	keys := routeKeys{}
	for _, k := range r.routeKinds {
		routes, err := r.gatewayRoutes(ctx, gw, k)
		if err != nil {
			return nil, err
		}
		k.setInput(in, routes)
		items := k.items(routes)
		keys[k.kind()] = make([]client.ObjectKey, len(items))
		for i, rt := range items {
			keys[k.kind()][i] = client.ObjectKeyFromObject(rt)
			backends = append(backends, k.backendKeys(rt)...)
		}
	}
	services, err := r.backendServices(ctx, backends)
	in.Services = services
	return keys, err
}

// gatewayRoutes lists the routes of kind k that name gw (or still carry an entry of ours
// for it): the cache's own objects, read only.
func (r *GatewayReconciler) gatewayRoutes(ctx context.Context, gw *gwapiv1.Gateway, k routeKind) (client.ObjectList, error) {
	routes := k.newList()
	if err := r.List(ctx, routes, client.MatchingFields{k.indexGateways(): client.ObjectKeyFromObject(gw).String()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing %ss: %w", k.kind(), err)
	}
	return routes, nil
}

// backendServices gets the distinct Services keys name (missing ones are left out: the
// translator reports them as BackendNotFound).
func (r *GatewayReconciler) backendServices(ctx context.Context, keys []client.ObjectKey) ([]corev1.Service, error) {
	seen := map[client.ObjectKey]bool{}
	var out []corev1.Service
	for _, key := range keys {
		if seen[key] {
			continue
		}
		seen[key] = true
		var svc corev1.Service
		if err := r.Get(ctx, key, &svc); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return nil, fmt.Errorf("reading Service %s: %w", key, err)
		}
		out = append(out, svc)
	}
	return out, nil
}

// gatewaySecrets reads the Secrets the listeners' certificateRefs and the backend
// client certificate ref name (gatewaySecretRefs). Missing Secrets are left out: the
// translator reports them as InvalidCertificateRef or InvalidClientCertificateRef.
func (r *GatewayReconciler) gatewaySecrets(ctx context.Context, gw *gwapiv1.Gateway) ([]corev1.Secret, error) {
	var out []corev1.Secret
	for _, key := range gatewaySecretRefs(gw) {
		var s corev1.Secret
		if err := r.APIReader.Get(ctx, key, &s); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return nil, fmt.Errorf("reading Secret %s: %w", key, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// gatewaySecretRefs are the distinct Secrets the Gateway names: its listeners'
// certificateRefs and spec.tls.backend.clientCertificateRef.
func gatewaySecretRefs(gw *gwapiv1.Gateway) []client.ObjectKey {
	keys := listenerSecretKeys(gw)
	if key, ok := backendClientSecretKey(gw); ok && !containsKey(keys, key) {
		keys = append(keys, key)
	}
	return keys
}

// listenerSecretKeys are the distinct Secrets the listeners' certificateRefs name.
func listenerSecretKeys(gw *gwapiv1.Gateway) []client.ObjectKey {
	var keys []client.ObjectKey
	seen := map[client.ObjectKey]bool{}
	for _, l := range gw.Spec.Listeners {
		if l.TLS == nil {
			continue
		}
		for _, ref := range l.TLS.CertificateRefs {
			if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
				continue
			}
			key := client.ObjectKey{Namespace: gw.Namespace, Name: string(ref.Name)}
			if ref.Namespace != nil {
				key.Namespace = string(*ref.Namespace)
			}
			if !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
		}
	}
	return keys
}

package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// translationInput reads, from the cache, everything the translation of gw may need
// beside the ListenerSets that name it (sets, listenerSetsOf): the routes that name it
// or those sets, their backend Services and the BackendTLSPolicies of those,
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
func (r *GatewayReconciler) translationInput(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) (translator.Input, routeKeys, error) {
	in := translator.Input{Gateway: gw, ControllerName: r.ControllerName, ListenerSets: sets}
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
	if in.Secrets, err = r.gatewaySecrets(ctx, gw, in.ListenerSets); err != nil {
		return err
	}
	if in.ConfigMaps, err = r.frontendCAConfigMaps(ctx, gw); err != nil {
		return err
	}
	return r.addPolicyInputs(ctx, in)
}

// routeKeys are the keys of routes by kind.
type routeKeys map[string][]client.ObjectKey

// addRouteInputs adds to in the routes of every kind served that name gw or one of its
// ListenerSets (in.ListenerSets), their backend Services and the Services of the
// listener filters of gw and its ListenerSets, and returns the routes' keys.
func (r *GatewayReconciler) addRouteInputs(ctx context.Context, gw *gwapiv1.Gateway, in *translator.Input) (routeKeys, error) {
	keys := routeKeys{}
	lists := make([]kindRoutes, 0, len(r.routeKinds))
	for _, k := range r.routeKinds {
		routes, err := r.routesOf(ctx, k, routeParentKeys(gw, in.ListenerSets))
		if err != nil {
			return nil, err
		}
		k.setInput(in, routes)
		items := k.items(routes)
		keys[k.kind()] = make([]client.ObjectKey, len(items))
		for i, rt := range items {
			keys[k.kind()][i] = client.ObjectKeyFromObject(rt)
		}
		lists = append(lists, kindRoutes{kind: k, items: items})
	}
	backends := r.backends.keys(client.ObjectKeyFromObject(gw), lists, filterServiceKeys(gw, in.ListenerSets))
	services, err := r.backendServices(ctx, backends)
	in.Services = services
	return keys, err
}

// kindRoutes are routes of one kind.
type kindRoutes struct {
	kind  routeKind
	items []client.Object
}

// backendServices gets the Services keys name (missing ones are left out: the
// translator reports them as BackendNotFound).
func (r *GatewayReconciler) backendServices(ctx context.Context, keys []client.ObjectKey) ([]corev1.Service, error) {
	var out []corev1.Service
	for _, key := range keys {
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

// gatewaySecrets reads the Secrets the listeners' certificateRefs (the Gateway's and
// its ListenerSets') and the backend client certificate ref name (gatewaySecretRefs).
// Missing Secrets are left out: the
// translator reports them as InvalidCertificateRef or InvalidClientCertificateRef.
func (r *GatewayReconciler) gatewaySecrets(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) ([]corev1.Secret, error) {
	var out []corev1.Secret
	keys := gatewaySecretRefs(gw)
	for i := range sets {
		for _, key := range listenerSetSecretKeys(&sets[i]) {
			if !containsKey(keys, key) {
				keys = append(keys, key)
			}
		}
	}
	for _, key := range keys {
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
	return certificateRefKeys(gw.Namespace, gw.Spec.Listeners)
}

// certificateRefKeys are the distinct Secrets the certificateRefs of listeners of an
// object in namespace ns name.
func certificateRefKeys(ns string, listeners []gwapiv1.Listener) []client.ObjectKey {
	var keys []client.ObjectKey
	seen := map[client.ObjectKey]bool{}
	for _, l := range listeners {
		if l.TLS == nil {
			continue
		}
		for _, ref := range l.TLS.CertificateRefs {
			if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
				continue
			}
			key := client.ObjectKey{Namespace: ns, Name: string(ref.Name)}
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

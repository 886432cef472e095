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
// the routes that name it, their backend Services, ReferenceGrants, Namespaces, the
// listeners' certificate Secrets and the frontend validation's CA ConfigMaps (both read
// directly: the cache holds only the operator's own). Lists are the cache's own objects,
// not copies (a table of thousands of routes would be copied on every reconcile): the
// translation only reads its input (TestGoldenInputUntouched), and nothing else here
// may write to them.
func (r *GatewayReconciler) translationInput(ctx context.Context, gw *gwapiv1.Gateway) (translator.Input, error) {
	in := translator.Input{Gateway: gw, ControllerName: r.ControllerName}
	var routes gwapiv1.HTTPRouteList
	if err := r.List(ctx, &routes, client.MatchingFields{indexRouteGateways: client.ObjectKeyFromObject(gw).String()}, client.UnsafeDisableDeepCopy); err != nil {
		return in, fmt.Errorf("listing HTTPRoutes: %w", err)
	}
	in.HTTPRoutes = routes.Items
	services, err := r.backendServices(ctx, routes.Items)
	if err != nil {
		return in, err
	}
	in.Services = services
	if err := r.addGRPCRouteInputs(ctx, gw, &in); err != nil {
		return in, err
	}
	var grants gwapiv1.ReferenceGrantList
	if err := r.List(ctx, &grants, client.UnsafeDisableDeepCopy); err != nil {
		return in, fmt.Errorf("listing ReferenceGrants: %w", err)
	}
	in.ReferenceGrants = grants.Items
	var namespaces corev1.NamespaceList
	if err := r.List(ctx, &namespaces, client.UnsafeDisableDeepCopy); err != nil {
		return in, fmt.Errorf("listing Namespaces: %w", err)
	}
	in.Namespaces = namespaces.Items
	if in.Secrets, err = r.listenerSecrets(ctx, gw); err != nil {
		return in, err
	}
	in.ConfigMaps, err = r.frontendCAConfigMaps(ctx, gw)
	return in, err
}

// backendServices gets the Services the routes' backendRefs name (missing ones are left
// out: the translator reports them as BackendNotFound).
func (r *GatewayReconciler) backendServices(ctx context.Context, routes []gwapiv1.HTTPRoute) ([]corev1.Service, error) {
	seen := map[client.ObjectKey]bool{}
	var out []corev1.Service
	for _, rt := range routes {
		for _, key := range routeBackendKeys(&rt) {
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
	}
	return out, nil
}

// listenerSecrets reads the Secrets the listeners' certificateRefs name. Missing Secrets
// are left out: the translator reports them as InvalidCertificateRef.
func (r *GatewayReconciler) listenerSecrets(ctx context.Context, gw *gwapiv1.Gateway) ([]corev1.Secret, error) {
	var out []corev1.Secret
	for _, key := range listenerSecretKeys(gw) {
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

// routeBackendKeys are the Services a route's rules send traffic to: backendRefs and
// the backends of RequestMirror filters, on rules and on backendRefs.
func routeBackendKeys(rt *gwapiv1.HTTPRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	mirrors := func(fs []gwapiv1.HTTPRouteFilter) {
		for _, f := range fs {
			if f.Type == gwapiv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil {
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

// appendServiceKey appends the key of the Service ref names (relative to namespace
// ns), unless ref is of another kind.
func appendServiceKey(keys []client.ObjectKey, ns string, ref *gwapiv1.BackendObjectReference) []client.ObjectKey {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		return keys
	}
	key := client.ObjectKey{Namespace: ns, Name: string(ref.Name)}
	if ref.Namespace != nil {
		key.Namespace = string(*ref.Namespace)
	}
	return append(keys, key)
}

// routeGatewayKeys are the "namespace/name" of the Gateways a route names in its
// parentRefs or has status entries of this operator for (so detaching clears them).
func routeGatewayKeys(rt *gwapiv1.HTTPRoute, controller gwapiv1.GatewayController) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(ref gwapiv1.ParentReference) {
		if (ref.Group != nil && *ref.Group != gwapiv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
			return
		}
		ns := rt.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if k := ns + "/" + string(ref.Name); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, ref := range rt.Spec.ParentRefs {
		add(ref)
	}
	for _, p := range rt.Status.Parents {
		if p.ControllerName == controller {
			add(p.ParentRef)
		}
	}
	return keys
}

package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// frontendCAConfigMaps reads the ConfigMaps that the Gateway's frontend client
// certificate validation names (read directly, like listener Secrets: the cache holds
// only the operator's own). Missing ones are left out: the translator reports them
// as InvalidCACertificateRef.
func (r *GatewayReconciler) frontendCAConfigMaps(ctx context.Context, gw *gwapiv1.Gateway) ([]corev1.ConfigMap, error) {
	var out []corev1.ConfigMap
	for _, key := range frontendCAKeys(gw) {
		var cm corev1.ConfigMap
		if err := r.APIReader.Get(ctx, key, &cm); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return nil, fmt.Errorf("reading ConfigMap %s: %w", key, err)
		}
		out = append(out, cm)
	}
	return out, nil
}

// frontendCAKeys are the distinct ConfigMaps named by spec.tls.frontend (default and
// per port).
func frontendCAKeys(gw *gwapiv1.Gateway) []client.ObjectKey {
	var keys []client.ObjectKey
	seen := map[client.ObjectKey]bool{}
	for _, ref := range frontendCARefs(gw) {
		if ref.Group != "" || ref.Kind != "ConfigMap" {
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
	return keys
}

// frontendTrustBundleNames are the distinct ClusterTrustBundles named by
// spec.tls.frontend (default and per port).
func frontendTrustBundleNames(gw *gwapiv1.Gateway) []string {
	var names []string
	for _, ref := range frontendCARefs(gw) {
		if string(ref.Group) == clusterTrustBundleGVK.Group && string(ref.Kind) == clusterTrustBundleGVK.Kind && !containsKey(names, string(ref.Name)) {
			names = append(names, string(ref.Name))
		}
	}
	return names
}

// frontendCARefs are the CA certificate references of spec.tls.frontend's validations,
// default first, then per port.
func frontendCARefs(gw *gwapiv1.Gateway) []gwapiv1.ObjectReference {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := gw.Spec.TLS.Frontend
	validations := []*gwapiv1.FrontendTLSValidation{f.Default.Validation}
	for i := range f.PerPort {
		validations = append(validations, f.PerPort[i].TLS.Validation)
	}
	var refs []gwapiv1.ObjectReference
	for _, v := range validations {
		if v != nil {
			refs = append(refs, v.CACertificateRefs...)
		}
	}
	return refs
}

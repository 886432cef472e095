package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/translator"
)

// addACMEInputs adds to in the Secret of acme's externalAccountBinding and the Secret or
// ConfigMap of its trustedCARef, read directly in the Gateway's namespace (the cache
// holds only the operator's own). Missing objects are left out: the translator reports
// them on the listeners.
func (r *GatewayReconciler) addACMEInputs(ctx context.Context, gw *gwapiv1.Gateway, acme *v1alpha1.ACMESpec, in *translator.Input) error {
	if acme == nil {
		return nil
	}
	secrets, configMaps := acmeRefKeys(gw.Namespace, acme)
	for _, key := range secrets {
		var s corev1.Secret
		if err := r.APIReader.Get(ctx, key, &s); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return fmt.Errorf("reading Secret %s: %w", key, err)
		}
		in.Secrets = append(in.Secrets, s)
	}
	for _, key := range configMaps {
		var cm corev1.ConfigMap
		if err := r.APIReader.Get(ctx, key, &cm); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return fmt.Errorf("reading ConfigMap %s: %w", key, err)
		}
		in.ConfigMaps = append(in.ConfigMaps, cm)
	}
	return nil
}

// acmeRefKeys are the Secrets and ConfigMaps spec.acme names, in namespace ns.
func acmeRefKeys(ns string, acme *v1alpha1.ACMESpec) (secrets, configMaps []client.ObjectKey) {
	if eab := acme.ExternalAccountBinding; eab != nil {
		secrets = append(secrets, client.ObjectKey{Namespace: ns, Name: eab.MACKeySecretRef.Name})
	}
	if ref := acme.TrustedCARef; ref != nil {
		key := client.ObjectKey{Namespace: ns, Name: ref.Name}
		if ref.Kind == "Secret" {
			if len(secrets) == 0 || secrets[0] != key {
				secrets = append(secrets, key)
			}
		} else {
			configMaps = append(configMaps, key)
		}
	}
	return secrets, configMaps
}

// asksForAutomatic reports whether a listener of gw or of sets has
// tls.options caddygateway.io/automatic-certificates: "true".
func asksForAutomatic(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) bool {
	asks := func(tls *gwapiv1.ListenerTLSConfig) bool {
		return tls != nil && tls.Options[translator.OptionAutomaticCertificates] == "true"
	}
	for i := range gw.Spec.Listeners {
		if asks(gw.Spec.Listeners[i].TLS) {
			return true
		}
	}
	for i := range sets {
		for j := range sets[i].Spec.Listeners {
			if asks(sets[i].Spec.Listeners[j].TLS) {
				return true
			}
		}
	}
	return false
}

// indexParamsACMERefs indexes CaddyProxyConfigs by the objects their spec.acme names,
// "Secret/<name>" or "ConfigMap/<name>": each is read in the namespace of every Gateway
// using the CaddyProxyConfig.
const indexParamsACMERefs = "caddygateway.io/params-acme-refs"

// paramsACMERefs are the index values of indexParamsACMERefs of a CaddyProxyConfig.
func paramsACMERefs(o client.Object) []string {
	acme := o.(*v1alpha1.CaddyProxyConfig).Spec.ACME
	if acme == nil {
		return nil
	}
	secrets, configMaps := acmeRefKeys("", acme)
	out := make([]string, 0, len(secrets)+len(configMaps))
	for _, k := range secrets {
		out = append(out, "Secret/"+k.Name)
	}
	for _, k := range configMaps {
		out = append(out, "ConfigMap/"+k.Name)
	}
	return out
}

// gatewaysOfACMERef maps a Secret or ConfigMap (kind) that the spec.acme of some
// CaddyProxyConfig names to the Gateways of its namespace, so that an EAB key or a
// trusted CA created or changed later takes effect. Which CaddyProxyConfig a Gateway
// merges is its reconcile's to find out: every Gateway of the namespace is asked, and
// only when some spec.acme names the object.
func (r *GatewayReconciler) gatewaysOfACMERef(ctx context.Context, kind string, o client.Object) []reconcile.Request {
	var cpcs v1alpha1.CaddyProxyConfigList
	if err := r.List(ctx, &cpcs, client.MatchingFields{indexParamsACMERefs: kind + "/" + o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing CaddyProxyConfigs naming an ACME object", "kind", kind, "object", client.ObjectKeyFromObject(o))
		return nil
	}
	if len(cpcs.Items) == 0 {
		return nil
	}
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing the Gateways of a namespace", "namespace", o.GetNamespace())
		return nil
	}
	return gatewayRequests(gws.Items)
}

package controller

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// BackendTLSPolicies are read and their ancestor entries of this operator written
// (policy_status.go); ClusterTrustBundles are read when the cluster serves them.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=backendtlspolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=backendtlspolicies/status,verbs=update
// +kubebuilder:rbac:groups=certificates.k8s.io,resources=clustertrustbundles,verbs=get;list;watch

var (
	// backendTLSPolicyGVK is the policy kind served when its CRD is installed.
	backendTLSPolicyGVK = schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "BackendTLSPolicy"}
	// clusterTrustBundleGVK is the CA bundle kind a policy may name; beta, served only
	// where the cluster turns it on.
	clusterTrustBundleGVK = certificatesv1beta1.SchemeGroupVersion.WithKind("ClusterTrustBundle")
)

// Field indexes of BackendTLSPolicies.
const (
	// indexPolicyServices indexes policies by the "namespace/name" of the Services they target.
	indexPolicyServices = "caddygateway.io/backendtlspolicy-services"
	// indexPolicyConfigMaps indexes policies by the "namespace/name" of the CA ConfigMaps they name.
	indexPolicyConfigMaps = "caddygateway.io/backendtlspolicy-configmaps"
	// indexPolicyTrustBundles indexes policies by the names of the ClusterTrustBundles they name.
	indexPolicyTrustBundles = "caddygateway.io/backendtlspolicy-trustbundles"
	// indexPolicyAncestors indexes policies by the "namespace/name" of the Gateways this
	// operator has ancestor entries for in their status.
	indexPolicyAncestors = "caddygateway.io/backendtlspolicy-ancestors"
)

// backendTLSAPIs says which of the APIs of TLS to backends the cluster serves; both are
// looked up once, at start.
type backendTLSAPIs struct {
	// policies: the BackendTLSPolicy CRD is installed.
	policies bool
	// trustBundles: the API server serves certificates.k8s.io/v1beta1 ClusterTrustBundles.
	trustBundles bool
}

// servedBackendTLSAPIs looks up which of the two APIs the cluster serves. One not served
// is left out with a log line, like a route kind whose CRD is missing: without
// policies no backend is spoken to over TLS; without ClusterTrustBundles a policy
// naming one is refused by the translator.
func servedBackendTLSAPIs(mapper meta.RESTMapper, log logr.Logger) (backendTLSAPIs, error) {
	var apis backendTLSAPIs
	var err error
	if apis.policies, err = served(mapper, backendTLSPolicyGVK, log, "BackendTLSPolicy not served: its CRD is not installed"); err != nil {
		return apis, err
	}
	apis.trustBundles, err = served(mapper, clusterTrustBundleGVK, log, "ClusterTrustBundle not served: the API server does not serve its beta API")
	return apis, err
}

// served reports whether the cluster serves gvk, logging msg when it does not.
func served(mapper meta.RESTMapper, gvk schema.GroupVersionKind, log logr.Logger, msg string) (bool, error) {
	_, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		log.Info(msg, "kind", gvk.Kind, "apiVersion", gvk.GroupVersion().String())
		return false, nil
	default:
		return false, fmt.Errorf("looking up the API of %s: %w", gvk.Kind, err)
	}
}

// setupPolicyIndexes registers the field indexes of BackendTLSPolicies.
func setupPolicyIndexes(ctx context.Context, idx client.FieldIndexer, controller gwapiv1.GatewayController) error {
	indexes := map[string]func(*gwapiv1.BackendTLSPolicy) []string{
		indexPolicyServices:     func(p *gwapiv1.BackendTLSPolicy) []string { return keyStrings(policyServiceKeys(p)) },
		indexPolicyConfigMaps:   func(p *gwapiv1.BackendTLSPolicy) []string { return keyStrings(policyConfigMapKeys(p)) },
		indexPolicyTrustBundles: policyTrustBundleNames,
		indexPolicyAncestors:    func(p *gwapiv1.BackendTLSPolicy) []string { return policyAncestorKeys(p, controller) },
	}
	for name, f := range indexes {
		if err := idx.IndexField(ctx, &gwapiv1.BackendTLSPolicy{}, name, func(o client.Object) []string {
			return f(o.(*gwapiv1.BackendTLSPolicy))
		}); err != nil {
			return fmt.Errorf("indexing BackendTLSPolicies (%s): %w", name, err)
		}
	}
	return nil
}

// keyStrings turns keys into their "namespace/name" strings.
func keyStrings(keys []client.ObjectKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.String())
	}
	return out
}

// policyServiceKeys are the distinct Services a policy targets (in its own namespace).
func policyServiceKeys(p *gwapiv1.BackendTLSPolicy) []client.ObjectKey {
	var keys []client.ObjectKey
	for _, ref := range p.Spec.TargetRefs {
		if ref.Group != "" || ref.Kind != "Service" {
			continue
		}
		key := client.ObjectKey{Namespace: p.Namespace, Name: string(ref.Name)}
		if !containsKey(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// policyConfigMapKeys are the distinct ConfigMaps a policy names as CA certificates.
func policyConfigMapKeys(p *gwapiv1.BackendTLSPolicy) []client.ObjectKey {
	var keys []client.ObjectKey
	for _, ref := range p.Spec.Validation.CACertificateRefs {
		if ref.Group != "" || ref.Kind != "ConfigMap" {
			continue
		}
		key := client.ObjectKey{Namespace: p.Namespace, Name: string(ref.Name)}
		if !containsKey(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// policyTrustBundleNames are the distinct ClusterTrustBundles a policy names as CA certificates.
func policyTrustBundleNames(p *gwapiv1.BackendTLSPolicy) []string {
	var names []string
	for _, ref := range p.Spec.Validation.CACertificateRefs {
		if string(ref.Group) != clusterTrustBundleGVK.Group || string(ref.Kind) != clusterTrustBundleGVK.Kind {
			continue
		}
		if name := string(ref.Name); !containsKey(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// policyAncestorKeys are the "namespace/name" of the Gateways controller has ancestor
// entries for in the policy's status.
func policyAncestorKeys(p *gwapiv1.BackendTLSPolicy, controller gwapiv1.GatewayController) []string {
	var keys []string
	for _, a := range p.Status.Ancestors {
		if a.ControllerName != controller || !isGatewayRef(a.AncestorRef) {
			continue
		}
		ns := p.Namespace
		if a.AncestorRef.Namespace != nil {
			ns = string(*a.AncestorRef.Namespace)
		}
		if key := ns + "/" + string(a.AncestorRef.Name); !containsKey(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// isGatewayRef reports whether ref names a Gateway.
func isGatewayRef(ref gwapiv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gwapiv1.GroupName) && (ref.Kind == nil || *ref.Kind == "Gateway")
}

func containsKey[K comparable](keys []K, key K) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// addPolicyInputs adds to in the BackendTLSPolicies that target the Services in
// in.Services, when served, and the CA ConfigMaps and ClusterTrustBundles they and the
// Gateway's frontend validation name.
func (r *GatewayReconciler) addPolicyInputs(ctx context.Context, in *translator.Input) error {
	in.ClusterTrustBundlesServed = r.backendTLS.trustBundles
	if r.backendTLS.policies {
		if err := r.addPolicies(ctx, in); err != nil {
			return err
		}
	}
	return r.addPolicyCAs(ctx, in)
}

// addPolicies adds to in the BackendTLSPolicies that target the Services in
// in.Services. Every policy of such a Service is loaded, so the translator sees the
// rivals of each (the older wins); a policy of a Service no route of the Gateway uses is
// never read.
func (r *GatewayReconciler) addPolicies(ctx context.Context, in *translator.Input) error {
	seen := map[client.ObjectKey]bool{}
	for i := range in.Services {
		var list gwapiv1.BackendTLSPolicyList
		key := client.ObjectKeyFromObject(&in.Services[i]).String()
		if err := r.List(ctx, &list, client.MatchingFields{indexPolicyServices: key}, client.UnsafeDisableDeepCopy); err != nil {
			return fmt.Errorf("listing the BackendTLSPolicies of Service %s: %w", key, err)
		}
		for _, p := range list.Items {
			if k := client.ObjectKeyFromObject(&p); !seen[k] {
				seen[k] = true
				in.BackendTLSPolicies = append(in.BackendTLSPolicies, p)
			}
		}
	}
	return nil
}

// addPolicyCAs adds to in the CA ConfigMaps (read directly, like the frontend's) that
// in's policies name, and the ClusterTrustBundles (from the cache) that they and the
// Gateway's frontend validation name. Missing ones are left out: the translator reports
// them as InvalidCACertificateRef.
func (r *GatewayReconciler) addPolicyCAs(ctx context.Context, in *translator.Input) error {
	haveCM := map[client.ObjectKey]bool{}
	for i := range in.ConfigMaps {
		haveCM[client.ObjectKeyFromObject(&in.ConfigMaps[i])] = true
	}
	bundles := frontendTrustBundleNames(in.Gateway)
	for i := range in.BackendTLSPolicies {
		p := &in.BackendTLSPolicies[i]
		for _, key := range policyConfigMapKeys(p) {
			if haveCM[key] {
				continue
			}
			haveCM[key] = true
			var cm corev1.ConfigMap
			if err := r.APIReader.Get(ctx, key, &cm); err != nil {
				if client.IgnoreNotFound(err) == nil {
					continue
				}
				return fmt.Errorf("reading ConfigMap %s: %w", key, err)
			}
			in.ConfigMaps = append(in.ConfigMaps, cm)
		}
		for _, name := range policyTrustBundleNames(p) {
			if !containsKey(bundles, name) {
				bundles = append(bundles, name)
			}
		}
	}
	return r.addTrustBundles(ctx, in, bundles)
}

// addTrustBundles adds to in the ClusterTrustBundles of names that exist, when the
// cluster serves them.
func (r *GatewayReconciler) addTrustBundles(ctx context.Context, in *translator.Input, names []string) error {
	if !r.backendTLS.trustBundles {
		return nil
	}
	for _, name := range names {
		var ctb certificatesv1beta1.ClusterTrustBundle
		if err := r.Get(ctx, client.ObjectKey{Name: name}, &ctb); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return fmt.Errorf("reading ClusterTrustBundle %s: %w", name, err)
		}
		in.ClusterTrustBundles = append(in.ClusterTrustBundles, ctb)
	}
	return nil
}

// gatewaysOfPolicy maps a BackendTLSPolicy to the Gateways whose routes use a Service it
// targets, and to those it has an ancestor entry of ours for (so retargeting or
// deleting it clears that entry). On an update it is called with the old and the new
// policy.
func (r *GatewayReconciler) gatewaysOfPolicy(ctx context.Context, o client.Object) []reconcile.Request {
	p := o.(*gwapiv1.BackendTLSPolicy)
	reqs := keysToRequests(policyAncestorKeys(p, r.ControllerName))
	for _, svc := range policyServiceKeys(p) {
		reqs = append(reqs, r.gatewaysOfServiceKey(ctx, svc)...)
	}
	return reqs
}

// gatewaysOfPolicies maps the policies matching field=value to their Gateways.
func (r *GatewayReconciler) gatewaysOfPolicies(ctx context.Context, field, value string) []reconcile.Request {
	if !r.backendTLS.policies {
		return nil
	}
	var list gwapiv1.BackendTLSPolicyList
	if err := r.List(ctx, &list, client.MatchingFields{field: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing BackendTLSPolicies", "index", field, "value", value)
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		reqs = append(reqs, r.gatewaysOfPolicy(ctx, &list.Items[i])...)
	}
	return reqs
}

// gatewaysOfTrustBundle maps a ClusterTrustBundle to the Gateways of the policies naming
// it and to the Gateways whose frontend validation names it.
func (r *GatewayReconciler) gatewaysOfTrustBundle(ctx context.Context, o client.Object) []reconcile.Request {
	reqs := r.gatewaysOfPolicies(ctx, indexPolicyTrustBundles, o.GetName())
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayTrustBundles: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of a ClusterTrustBundle", "clusterTrustBundle", o.GetName())
		return reqs
	}
	return append(reqs, gatewayRequests(gws.Items)...)
}

// watchBackendTLS adds to b the watches of BackendTLSPolicies and ClusterTrustBundles,
// each when served. A policy's own status writes (ours among them) change no
// configuration: only its spec's changes are watched. A CA ConfigMap's changes come
// through the ConfigMap metadata watch (gatewaysOfCAConfigMap), a client certificate
// Secret's through the Secret one (gatewaysOfSecret).
func (r *GatewayReconciler) watchBackendTLS(b *builder.Builder) *builder.Builder {
	if r.backendTLS.policies {
		b = b.Watches(&gwapiv1.BackendTLSPolicy{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfPolicy),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	if r.backendTLS.trustBundles {
		b = b.Watches(&certificatesv1beta1.ClusterTrustBundle{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfTrustBundle))
	}
	return b
}

// backendClientSecretKey is the Secret spec.tls.backend.clientCertificateRef names, if any.
func backendClientSecretKey(gw *gwapiv1.Gateway) (client.ObjectKey, bool) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Backend == nil || gw.Spec.TLS.Backend.ClientCertificateRef == nil {
		return client.ObjectKey{}, false
	}
	ref := gw.Spec.TLS.Backend.ClientCertificateRef
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
		return client.ObjectKey{}, false
	}
	key := client.ObjectKey{Namespace: gw.Namespace, Name: string(ref.Name)}
	if ref.Namespace != nil {
		key.Namespace = string(*ref.Namespace)
	}
	return key, true
}

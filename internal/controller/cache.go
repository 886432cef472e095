package controller

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/infra"
)

// CacheOptions are the options of the manager's cache: CacheScope, and objects watched
// as metadata only kept without the copies they may carry (trimMetadataOnly).
func CacheOptions() cache.Options {
	return cache.Options{ByObject: CacheScope(), DefaultTransform: trimMetadataOnly}
}

// trimMetadataOnly drops from an object watched as metadata only (the Gateway API CRD,
// cert-manager's objects) what the operator never reads and what can copy a whole
// object: its managed fields and kubectl's last-applied-configuration annotation. Other
// annotations stay: the CRD's bundle version is read. Full objects pass untouched:
// they may be written back, where a missing annotation would be a deletion.
func trimMetadataOnly(in any) (any, error) {
	if m, ok := in.(*metav1.PartialObjectMetadata); ok {
		m.ManagedFields = nil
		delete(m.Annotations, corev1.LastAppliedConfigAnnotation)
	}
	return in, nil
}

// dropAnnotations is the transform of the Secret metadata cache, whose readers use only
// the objects' keys: no annotations (kubectl's last-applied-configuration copies a
// Secret's data into one), no managed fields.
func dropAnnotations(in any) (any, error) {
	if m, err := meta.Accessor(in); err == nil {
		m.SetAnnotations(nil)
		m.SetManagedFields(nil)
	}
	return in, nil
}

// CacheScope limits the manager's cache of kinds the operator only creates to the objects
// it labelled, so that it does not hold every Secret or Deployment of the cluster in
// memory. Pass it as cache.Options.ByObject. Reads of these kinds through the manager's
// client see only the fleet's objects: the reconcilers never need others. ReplicaSets,
// ControllerRevisions and pods, which the Deployment and DaemonSet controllers create,
// carry the labels of the pod template.
func CacheScope() map[client.Object]cache.ByObject {
	own := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{infra.LabelManagedBy: infra.ManagedByValue})}
	return map[client.Object]cache.ByObject{
		&corev1.Secret{}: own, &corev1.ConfigMap{}: own, &corev1.ServiceAccount{}: own,
		&appsv1.Deployment{}: own, &appsv1.DaemonSet{}: own, &networkingv1.NetworkPolicy{}: own,
		&autoscalingv2.HorizontalPodAutoscaler{}: own, &policyv1.PodDisruptionBudget{}: own,
		&corev1.Pod{}: own, &appsv1.ReplicaSet{}: own, &appsv1.ControllerRevision{}: own,
		&coordinationv1.Lease{}: own, &rbacv1.Role{}: own, &rbacv1.RoleBinding{}: own,
	}
}

// configMapMetadata is the object the metadata cache holds for ConfigMaps.
func configMapMetadata() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
}

// secretMetadata is the object the Secret metadata cache holds.
func secretMetadata() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
}

// newSecretMetadataCache registers with mgr a cache of the metadata (no data) of every
// Secret (and ConfigMap: frontend CA bundles live in ConfigMaps others write). The
// manager's cache holds only the operator's own Secrets (CacheScope), yet listener
// certificates live in Secrets others write (cert-manager, users): their creation,
// renewal and deletion must reach the Gateways that name them. Their data is read from
// the API server; neither it nor their annotations are cached (dropAnnotations).
func newSecretMetadataCache(mgr ctrl.Manager) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultTransform: dropAnnotations,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the Secret metadata cache: %w", err)
	}
	if err := mgr.Add(startedFirst{c}); err != nil {
		return nil, fmt.Errorf("adding the Secret metadata cache to the manager: %w", err)
	}
	return c, nil
}

// startedFirst makes the manager start a cache with its own, before the controllers.
type startedFirst struct{ cache.Cache }

// GetCache is what the manager looks for to start a runnable among the caches.
func (s startedFirst) GetCache() cache.Cache { return s.Cache }

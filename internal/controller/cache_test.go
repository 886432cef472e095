package controller_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
)

// A Secret applied with kubectl carries a copy of its data in the last-applied-
// configuration annotation. The operator's caches built as cmd/main.go builds them do
// not keep it: the Secret metadata cache keeps no annotations nor managed fields, the
// manager's cache drops that annotation and the managed fields from metadata-only
// objects and leaves full objects as they are.
func TestCachesKeepNoLastAppliedConfiguration(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: controller.CacheOptions(),
	})
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := controller.NewSecretMetadataCache(mgr)
	if err != nil {
		t.Fatal(err)
	}
	runCaches(t, ctx, mgr)

	const applied = `{"apiVersion":"v1","data":{"tls.key":"c2VjcmV0"},"kind":"Secret"}`
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: "applied", Namespace: newNamespace(t),
			Labels:      map[string]string{infra.LabelManagedBy: infra.ManagedByValue},
			Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: applied, "example.com/note": "kept"},
		},
		Data: map[string][]byte{"tls.key": []byte("secret")},
	}
	create(t, sec)
	key := client.ObjectKeyFromObject(sec)

	inSecrets := secretMeta()
	eventually(t, waitTimeout, func() error { return secrets.Get(ctx, key, inSecrets) })
	if len(inSecrets.Annotations) > 0 || len(inSecrets.ManagedFields) > 0 {
		t.Errorf("the Secret metadata cache holds annotations %v and %d managed fields; want none",
			inSecrets.Annotations, len(inSecrets.ManagedFields))
	}

	inManager := secretMeta()
	eventually(t, waitTimeout, func() error { return mgr.GetCache().Get(ctx, key, inManager) })
	if _, ok := inManager.Annotations[corev1.LastAppliedConfigAnnotation]; ok || len(inManager.ManagedFields) > 0 {
		t.Errorf("the manager's cache holds the Secret's metadata with annotations %v and %d managed fields; want no %s and none",
			inManager.Annotations, len(inManager.ManagedFields), corev1.LastAppliedConfigAnnotation)
	}
	if inManager.Annotations["example.com/note"] != "kept" {
		t.Errorf("the manager's cache lost the other annotations of metadata-only objects: %v", inManager.Annotations)
	}

	full := &corev1.Secret{}
	eventually(t, waitTimeout, func() error { return mgr.GetCache().Get(ctx, key, full) })
	if full.Annotations[corev1.LastAppliedConfigAnnotation] != applied {
		t.Errorf("the manager's cache changed a full object, which may be written back: annotations %v", full.Annotations)
	}
}

// secretMeta is an empty Secret metadata object.
func secretMeta() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
}

// runCaches starts mgr, which has no controllers, until the test ends and waits for its
// caches.
func runCaches(t *testing.T, ctx context.Context, mgr ctrl.Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the manager stopped with an error: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("the manager's cache did not sync")
	}
}

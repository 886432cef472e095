package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/controller"
)

// BenchmarkAdminCertificateWork times the admin certificate work of a reconcile of a
// Gateway whose admin Secrets are all issued and unchanged, as in a reconcile for a route
// change: the check of its admin Secrets and its admin client TLS configuration.
func BenchmarkAdminCertificateWork(b *testing.B) {
	ctx := context.Background()
	ns := fmt.Sprintf("bench-admin-%d", time.Now().UnixNano())
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(k8s.Create(ctx, newClass(ns, controllerName, nil)))
	gw := newGateway(ns, "gw", ns)
	must(k8s.Create(ctx, gw))
	b.Cleanup(func() {
		_ = k8s.Delete(ctx, gw)
		_ = k8s.Delete(ctx, newClass(ns, controllerName, nil))
	})
	work := controller.NewAdminWork(manager, setupOptions())
	copyKey := client.ObjectKey{Namespace: ns, Name: certs.ServerSecret(gw.Name)}
	var err error
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// The manager's reconciler issues the Secrets; the work runs on what its cache holds.
		var cp corev1.Secret
		if err = manager.GetClient().Get(ctx, copyKey, &cp); err != nil {
			continue
		}
		if err = manager.GetClient().Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil {
			continue
		}
		if err = work.Run(ctx, gw); err == nil {
			break
		}
	}
	must(err)
	b.ResetTimer()
	for b.Loop() {
		must(work.Run(ctx, gw))
	}
}

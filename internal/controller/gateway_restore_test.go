package controller_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
)

// restoreTimeout bounds how long a deleted object of a Gateway may stay missing.
const restoreTimeout = 10 * time.Second

// TestGatewayRestoresDeletedObjects deletes, one at a time, each object the operator
// keeps for a Gateway (built-in CA), in its namespace and in the operator's: each comes
// back, as a new object, within seconds and without any change to the Gateway.
func TestGatewayRestoresDeletedObjects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	n, c := infra.NamesFor(f.gateway.Name), f.admin()
	tests := []struct {
		key client.ObjectKey
		obj client.Object
	}{
		{f.key(n.Workload), &corev1.ServiceAccount{}}, {f.key(n.Bootstrap), &corev1.ConfigMap{}}, {f.key(n.Workload), &appsv1.Deployment{}},
		{f.key(n.Workload), &corev1.Service{}}, {f.key(n.Workload), &networkingv1.NetworkPolicy{}},
		{f.key(certs.ServerSecret(f.gateway.Name)), &corev1.Secret{}},
		{adminKey(c.CA), &corev1.Secret{}}, {adminKey(c.Server), &corev1.Secret{}}, {adminKey(c.Client), &corev1.Secret{}},
		{adminKey(c.Trust), &corev1.Secret{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%T %s", tc.obj, tc.key), func(t *testing.T) {
			deleteAndWaitRestored(t, tc.key, tc.obj)
		})
	}
}

// deleteAndWaitRestored deletes the object at key once it exists and waits until an
// object with another UID takes its place, for at most restoreTimeout.
func deleteAndWaitRestored[T client.Object](t *testing.T, key client.ObjectKey, obj T) {
	t.Helper()
	waitFor(t, key, obj, exists)
	old := obj.GetUID()
	if err := k8s.Delete(ctxFor(t), obj); err != nil {
		t.Fatalf("deleting %T %s: %v", obj, key, err)
	}
	start := time.Now()
	eventually(t, restoreTimeout, func() error {
		if err := k8s.Get(ctxFor(t), key, obj); err != nil {
			return err
		}
		if obj.GetUID() == old {
			return fmt.Errorf("%T %s is still the deleted object (uid %s)", obj, key, old)
		}
		return nil
	})
	t.Logf("%T %s restored after %v", obj, key, time.Since(start).Round(time.Millisecond))
}

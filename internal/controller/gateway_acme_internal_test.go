package controller

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/infra"
)

// fakeStates decodes the data key "state" as one certificate's phase, standing in for
// the storage encoding.
func fakeStates(shards ...map[string][]byte) map[string]acmestore.CertificateState {
	out := map[string]acmestore.CertificateState{}
	for _, d := range shards {
		if p, ok := d["state"]; ok {
			out["www.example.com"] = acmestore.CertificateState{Name: "www.example.com", Phase: acmestore.Phase(p),
				Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		}
	}
	return out
}

// A storage Secret's update makes a Gateway reconcile only when a recorded state, the
// metadata or the type changed; other objects' updates all pass.
func TestStorageChanged(t *testing.T) {
	storageLabels := map[string]string{infra.LabelComponent: infra.ACMEStorageComponent, infra.LabelManagedBy: infra.ManagedByValue}
	secret := func(labels map[string]string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-acme-0", Labels: labels}, Data: data, Type: corev1.SecretTypeOpaque}
	}
	lease := func(labels map[string]string, holder string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-acme-lock-0", Labels: labels},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}}
	}
	tests := map[string]struct {
		old, new client.Object
		want     bool
	}{
		"certificate written": {secret(storageLabels, nil), secret(storageLabels, map[string][]byte{"cert": []byte("x")}), false},
		"state recorded":      {secret(storageLabels, nil), secret(storageLabels, map[string][]byte{"state": []byte("Obtaining")}), true},
		"state changed": {secret(storageLabels, map[string][]byte{"state": []byte("Obtaining")}),
			secret(storageLabels, map[string][]byte{"state": []byte("Valid")}), true},
		"state unchanged beside a write": {secret(storageLabels, map[string][]byte{"state": []byte("Valid")}),
			secret(storageLabels, map[string][]byte{"state": []byte("Valid"), "cert": []byte("x")}), false},
		"label taken off":    {secret(storageLabels, nil), secret(map[string]string{infra.LabelManagedBy: infra.ManagedByValue}, nil), true},
		"lock taken":         {lease(storageLabels, "a"), lease(storageLabels, "b"), false},
		"lease label change": {lease(storageLabels, "a"), lease(map[string]string{"x": "y"}, "a"), true},
		"another Secret":     {secret(nil, nil), secret(nil, map[string][]byte{"tls.crt": []byte("x")}), true},
	}
	p := storageChanged(fakeStates)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Fatalf("Update passes: %v, want %v", got, tc.want)
			}
		})
	}
}

package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
)

// TestGatewayAdminObjectsGoWithGateway deletes a Gateway (built-in CA): its admin Secrets
// in the operator's namespace, which it cannot own, are deleted by the operator. (Those
// in its own namespace are owned by it and go with the garbage collector, which envtest
// does not run; the e2e test shows them gone.)
func TestGatewayAdminObjectsGoWithGateway(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	n := f.admin()
	names := []string{n.CA, n.Server, n.Client, n.Trust}
	for _, name := range names {
		waitFor(t, adminKey(name), &corev1.Secret{}, func(s *corev1.Secret) error { return checkAdminMeta(s, f.gateway) })
	}
	waitFor(t, f.key(certs.ServerSecret(f.gateway.Name)), &corev1.Secret{}, exists)
	if err := k8s.Delete(ctxFor(t), f.gateway); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		waitGone(t, adminKey(name), &corev1.Secret{})
	}
}

// TestAdminSweepAtStart stands for Gateways deleted while the operator was not running:
// admin objects in the operator's namespace whose Gateway does not exist are deleted when
// an operator starts; those of a Gateway that exists stay. The objects lack the fleet's
// managed-by label, so that the running operator's watch, which would delete the orphan
// too, does not see them: only the sweep of the operator started here does.
func TestAdminSweepAtStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	adminSecret := func(name, gateway string, uid string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Namespace: operatorNS, Name: name,
			Labels:      map[string]string{certs.LabelGatewayUID: uid, certs.LabelGatewayNamespace: f.ns},
			Annotations: map[string]string{certs.AnnotationGateway: f.ns + "/" + gateway},
		}, Data: map[string][]byte{"x": []byte("y")}}
	}
	orphan := adminSecret(certs.NamesFor(f.ns, "deleted-gw").Trust, "deleted-gw", "00000000-0000-4000-8000-00000000dead")
	kept := adminSecret(f.admin().Trust+"-extra", f.gateway.Name, string(f.gateway.UID))
	create(t, orphan)
	create(t, kept)
	t.Cleanup(func() { _ = k8s.Delete(ctxFor(t), kept) })
	consistently(t, quietPeriod, func() error {
		return k8s.Get(ctxFor(t), client.ObjectKeyFromObject(orphan), &corev1.Secret{})
	})

	startManager(t, gwapiv1.GatewayController("caddygateway.io/"+uniqueName(t, "sweep")))
	waitGone(t, client.ObjectKeyFromObject(orphan), &corev1.Secret{})
	consistently(t, quietPeriod, func() error {
		return k8s.Get(ctxFor(t), client.ObjectKeyFromObject(kept), &corev1.Secret{})
	})
}

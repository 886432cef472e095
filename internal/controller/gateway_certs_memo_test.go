package controller_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/controller"
)

// adminMemoFixture is a Gateway of a class only its counting reconciler owns: no other
// reconciler writes its admin Secrets between the reconciles the test counts.
type adminMemoFixture struct {
	c       *controller.CountingReconciler
	gateway *gwapiv1.Gateway
	params  *v1alpha1.CaddyProxyConfig
}

func newAdminMemoFixture(t *testing.T) *adminMemoFixture {
	t.Helper()
	o := setupOptions()
	o.ObserveTranslationInput = nil
	o.ControllerName = gwapiv1.GatewayController("example.com/" + uniqueName(t, "memo"))
	c, err := controller.NewCountingReconciler(manager, o)
	if err != nil {
		t.Fatal(err)
	}
	ns, class := newNamespace(t), uniqueName(t, "class")
	f := &adminMemoFixture{c: c, params: newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{}), gateway: newGateway(ns, "gw", class)}
	create(t, f.params)
	create(t, newClass(class, o.ControllerName, paramsRef(ns, "params")))
	create(t, f.gateway)
	return f
}

// secrets are the keys of the Secrets the check of the admin certificates reads.
func (f *adminMemoFixture) secrets() map[string]client.ObjectKey {
	n := certs.NamesFor(f.gateway.Namespace, f.gateway.Name)
	return map[string]client.ObjectKey{
		"CA": adminKey(n.CA), "server": adminKey(n.Server), "client": adminKey(n.Client), "trust": adminKey(n.Trust),
		"server copy": {Namespace: f.gateway.Namespace, Name: certs.ServerSecret(f.gateway.Name)},
	}
}

// reconcile reconciles the Gateway once the manager's cache holds the current versions
// of the Gateway, its parameters and the admin Secrets, and returns the requests made.
func (f *adminMemoFixture) reconcile(t *testing.T) controller.Requests {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		if err := cacheHolds(t, client.ObjectKeyFromObject(f.gateway), &gwapiv1.Gateway{}, &gwapiv1.Gateway{}); err != nil {
			return err
		}
		if err := cacheHolds(t, client.ObjectKeyFromObject(f.params), &v1alpha1.CaddyProxyConfig{}, &v1alpha1.CaddyProxyConfig{}); err != nil {
			return err
		}
		for _, key := range f.secrets() {
			if err := cacheHolds(t, key, &corev1.Secret{}, &corev1.Secret{}); err != nil {
				return err
			}
		}
		return nil
	})
	var got controller.Requests
	err := retry.OnError(retry.DefaultRetry, apierrors.IsConflict, func() (err error) {
		got, err = f.c.Reconcile(ctxFor(t), client.ObjectKeyFromObject(f.gateway))
		return err
	})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return got
}

// clientTLS is the admin client TLS configuration the reconciler has for the Gateway.
func (f *adminMemoFixture) clientTLS(t *testing.T) *tls.Config {
	t.Helper()
	var gw gwapiv1.Gateway
	if err := manager.GetClient().Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &gw); err != nil {
		t.Fatal(err)
	}
	cfg, reason, err := f.c.AdminClientTLS(ctxFor(t), &gw)
	if err != nil || reason != "" {
		t.Fatalf("admin client TLS: %v %s", err, reason)
	}
	return cfg
}

// settle reconciles until a reconcile does neither piece of admin work: what the
// previous ones wrote is then in place and seen.
func (f *adminMemoFixture) settle(t *testing.T) {
	t.Helper()
	for range 10 {
		got := f.reconcile(t)
		if got[controller.WorkAdminCertificates] == 0 && got[controller.WorkAdminClientTLS] == 0 {
			return
		}
	}
	t.Fatal("ten reconciles of an unchanged Gateway all checked its admin certificates again")
}

// cacheHolds says whether the manager's cache holds the API server's version of the
// object at key (both may not have it).
func cacheHolds[T client.Object](t *testing.T, key client.ObjectKey, live, cached T) error {
	liveErr := k8s.Get(ctxFor(t), key, live)
	cachedErr := manager.GetClient().Get(ctxFor(t), key, cached)
	if apierrors.IsNotFound(liveErr) && apierrors.IsNotFound(cachedErr) {
		return nil
	}
	if liveErr != nil || cachedErr != nil {
		return fmt.Errorf("%s: live %v, cached %v", key, liveErr, cachedErr)
	}
	if live.GetResourceVersion() != cached.GetResourceVersion() {
		return fmt.Errorf("the cache holds version %s of %T %s, not %s", cached.GetResourceVersion(), live, key, live.GetResourceVersion())
	}
	return nil
}

// wantWork checks how many times a reconcile checked the admin certificates and built
// the admin client TLS configuration.
func wantWork(t *testing.T, got controller.Requests, checks, builds int) {
	t.Helper()
	if got[controller.WorkAdminCertificates] != checks || got[controller.WorkAdminClientTLS] != builds {
		t.Errorf("the reconcile checked the admin certificates %d times and built the admin client TLS %d times, want %d and %d (all: %v)",
			got[controller.WorkAdminCertificates], got[controller.WorkAdminClientTLS], checks, builds, got)
	}
}

// TestAdminCertificateWorkIsMemoised: a reconcile of a Gateway whose admin inputs are
// unchanged (a route change) neither checks its admin certificates nor builds its admin
// client TLS configuration again; a change of any admin Secret, of the Gateway's
// generation or of the admin TLS spec does, and so does the clock reaching a
// certificate's renewal point, which renews it.
func TestAdminCertificateWorkIsMemoised(t *testing.T) {
	t.Parallel()
	f := newAdminMemoFixture(t)
	wantWork(t, f.reconcile(t), 1, 1)
	f.settle(t)
	wantWork(t, f.reconcile(t), 0, 0)
	before := f.clientTLS(t)
	if again := f.clientTLS(t); again != before {
		t.Error("the admin client TLS configuration of unchanged Secrets was built again")
	}

	for _, name := range []string{"CA", "server", "client", "trust", "server copy"} {
		t.Run("Secret "+name+" changed", func(t *testing.T) {
			update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.secrets()[name].Namespace, Name: f.secrets()[name].Name}},
				func(s *corev1.Secret) { s.Data["example.com-unused"] = []byte(name) })
			builds := 0
			if name == "client" || name == "trust" {
				builds = 1
			}
			wantWork(t, f.reconcile(t), 1, builds)
			f.settle(t)
		})
	}

	t.Run("generation changed", func(t *testing.T) {
		update(t, f.gateway, func(gw *gwapiv1.Gateway) {
			gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{
				Annotations: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{"example.com/memo": "1"}}
		})
		wantWork(t, f.reconcile(t), 1, 0)
		f.settle(t)
		copied := waitFor(t, f.secrets()["server copy"], &corev1.Secret{}, func(*corev1.Secret) error { return nil })
		if copied.Annotations["example.com/memo"] != "1" {
			t.Errorf("the server copy's annotations are %v, want the Gateway's example.com/memo", copied.Annotations)
		}
	})

	// Leaves renewed 5s after they are issued.
	short := &v1alpha1.AdminTLSSpec{Duration: &metav1.Duration{Duration: time.Hour},
		RenewBefore: &metav1.Duration{Duration: time.Hour - 5*time.Second}}
	t.Run("TLS spec changed", func(t *testing.T) {
		update(t, f.params, func(p *v1alpha1.CaddyProxyConfig) {
			p.Spec.ControlPlane = &v1alpha1.ControlPlaneSpec{TLS: short}
		})
		wantWork(t, f.reconcile(t), 1, 0)
		f.settle(t)
	})

	t.Run("renewal point reached", func(t *testing.T) {
		// The leaves of the default 90 days are not due under the new spec: have them
		// issued again, with it.
		for _, name := range []string{"server", "client"} {
			if err := k8s.Delete(ctxFor(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
				Namespace: f.secrets()[name].Namespace, Name: f.secrets()[name].Name}}); err != nil {
				t.Fatal(err)
			}
		}
		f.settle(t)
		server := waitFor(t, f.secrets()["server"], &corev1.Secret{}, func(*corev1.Secret) error { return nil })
		crt := parseCert(t, server.Data[certs.SecretCertKey])
		due := crt.NotAfter.Add(-short.RenewBefore.Duration)
		if time.Until(due) < time.Second {
			t.Fatalf("the server certificate is due for renewal at %s, too soon to see a reconcile spared before", due)
		}
		wantWork(t, f.reconcile(t), 0, 0)
		time.Sleep(time.Until(due) + 100*time.Millisecond)
		if got := f.reconcile(t); got[controller.WorkAdminCertificates] != 1 {
			t.Errorf("the reconcile past the renewal point checked the admin certificates %d times, want 1 (all: %v)",
				got[controller.WorkAdminCertificates], got)
		}
		renewed := waitFor(t, f.secrets()["server"], &corev1.Secret{}, func(*corev1.Secret) error { return nil })
		if renewed.ResourceVersion == server.ResourceVersion {
			t.Error("the server certificate was not renewed past its renewal point")
		}
		// The pusher keeps TLS sessions while the leaf and the roots are the same: those
		// of the 90-day leaf are not resumed with the renewed one.
		if after := f.clientTLS(t); bytes.Equal(after.Certificates[0].Certificate[0], before.Certificates[0].Certificate[0]) {
			t.Error("the admin client TLS configuration keeps the client certificate it had before the renewal")
		}
	})
}

package controller_test

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
)

// countingReconciler is a Gateway reconciler beside the manager's, set up the same way,
// that counts the requests of each reconcile it is asked for.
func countingReconciler(t *testing.T) *controller.CountingReconciler {
	t.Helper()
	o := setupOptions()
	o.ObserveTranslationInput = nil
	c, err := controller.NewCountingReconciler(manager, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reconcileCounting reconciles the fixture's Gateway once with c, once the manager's
// cache holds the Gateway's current generation and the Service's current
// resourceVersion, and returns the requests it made.
func reconcileCounting(t *testing.T, c *controller.CountingReconciler, f *fixture) controller.Requests {
	t.Helper()
	var gw gwapiv1.Gateway
	var svc corev1.Service
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &gw); err != nil {
			return err
		}
		var cached gwapiv1.Gateway
		if err := manager.GetClient().Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &cached); err != nil {
			return err
		}
		if cached.Generation != gw.Generation {
			return fmt.Errorf("the cache holds generation %d of the Gateway, not %d", cached.Generation, gw.Generation)
		}
		if err := k8s.Get(ctxFor(t), f.workload(), &svc); err != nil {
			return client.IgnoreNotFound(err)
		}
		var cachedSvc corev1.Service
		if err := manager.GetClient().Get(ctxFor(t), f.workload(), &cachedSvc); err != nil {
			return err
		}
		if cachedSvc.ResourceVersion != svc.ResourceVersion {
			return fmt.Errorf("the cache holds version %s of the Service, not %s", cachedSvc.ResourceVersion, svc.ResourceVersion)
		}
		return nil
	})
	// The manager's own reconciler runs beside c: a status write of c's that lost the
	// race to it fails with a conflict, which the manager would requeue. Such a
	// reconcile is repeated, and the requests of the one that completes are counted.
	var got controller.Requests
	err := retry.OnError(retry.DefaultRetry, apierrors.IsConflict, func() (err error) {
		got, err = c.Reconcile(ctxFor(t), client.ObjectKeyFromObject(f.gateway))
		return err
	})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	t.Logf("requests of a reconcile: %v", got)
	return got
}

// TestGatewayReconcileListsListenerSetsOnce: a reconcile of a Gateway with a ListenerSet
// attached lists the ListenerSets and the Namespaces once each, and its Service still
// opens the set's port; a reconcile that refuses the Gateway (an unsupported address)
// lists the ListenerSets once too, and refuses the set.
func TestGatewayReconcileListsListenerSetsOnce(t *testing.T) {
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, func(gw *gwapiv1.Gateway) {
		all := gwapiv1.NamespacesFromAll
		gw.Spec.AllowedListeners = &gwapiv1.AllowedListeners{Namespaces: &gwapiv1.ListenerNamespaces{From: &all}}
	})
	ls := newListenerSet(newNamespace(t), "team", f.ns, f.gateway.Name, 8081)
	create(t, ls)
	lsKey := client.ObjectKeyFromObject(ls)
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionTrue, gwapiv1.ListenerSetReasonAccepted))
	c := countingReconciler(t)

	got := reconcileCounting(t, c, f)
	if got["list ListenerSet"] != 1 || got["list Namespace"] != 1 {
		t.Errorf("a reconcile made %d ListenerSet and %d Namespace lists, want 1 and 1 (all requests: %v)",
			got["list ListenerSet"], got["list Namespace"], got)
	}
	if ports := servicePorts(t, f); !slices.Contains(ports, 8081) {
		t.Errorf("Service ports %v, want the set's 8081 among them", ports)
	}

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{{Type: ptr.To(gwapiv1.HostnameAddressType), Value: "gw.example.com"}}
	})
	got = reconcileCounting(t, c, f)
	if got["list ListenerSet"] != 1 {
		t.Errorf("a reconcile refusing the Gateway made %d ListenerSet lists, want 1 (all requests: %v)", got["list ListenerSet"], got)
	}
	waitFor(t, lsKey, &gwapiv1.ListenerSet{}, listenerSetAcceptedIs(metav1.ConditionFalse, gwapiv1.ListenerSetReasonParentNotAccepted))
}

// TestStandingAddressRefusalAsksOnce: while the API server's refusal of a requested
// cluster IP stands, a reconcile asks it nothing more (no dry-run create, no IPAddress
// read) and still reports the refusal; another request, or a change of the Service by
// anyone, asks again, once.
func TestStandingAddressRefusalAsksOnce(t *testing.T) {
	first, taken := serviceCIDRAddress(t, 13)
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)}},
		withAddresses(ipAddress(first)))
	waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.ClusterIP != first {
			return fmt.Errorf("cluster IP is %s, want %s", s.Spec.ClusterIP, first)
		}
		return nil
	})
	c := countingReconciler(t)
	refused := func(bad string) func(*gwapiv1.Gateway) error {
		return conditionIs(string(gwapiv1.GatewayConditionProgrammed), metav1.ConditionFalse, gwapiv1.GatewayReasonAddressNotUsable, "address "+bad)
	}
	const dryRun, ipRead = "create Service dry-run", "get IPAddress from the API server"
	// asks reconciles twice: the first asks the API server wantDryRuns dry runs and
	// wantIPReads IPAddress reads, the second nothing; both leave the refusal of bad.
	asks := func(step, bad string, wantDryRuns, wantIPReads int) {
		t.Helper()
		f.waitGateway(t, refused(bad))
		got := reconcileCounting(t, c, f)
		if got[dryRun] != wantDryRuns || got[ipRead] != wantIPReads {
			t.Errorf("%s: the first reconcile made %d dry runs and %d IPAddress reads, want %d and %d (all requests: %v)",
				step, got[dryRun], got[ipRead], wantDryRuns, wantIPReads, got)
		}
		got = reconcileCounting(t, c, f)
		if got[dryRun] != 0 || got[ipRead] != 0 || got["patch Service"] != 0 {
			t.Errorf("%s: a reconcile while the refusal stands made %d dry runs, %d IPAddress reads and %d Service applies, want none (all requests: %v)",
				step, got[dryRun], got[ipRead], got["patch Service"], got)
		}
		var gw gwapiv1.Gateway
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &gw); err != nil {
			t.Fatal(err)
		}
		if err := refused(bad)(&gw); err != nil {
			t.Errorf("%s: after a reconcile on the standing refusal: %v", step, err)
		}
	}

	update(t, f.gateway, func(gw *gwapiv1.Gateway) { gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{ipAddress(taken)} })
	asks("a taken address", taken, 1, 1)
	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{ipAddress("192.0.2.1")}
	})
	asks("an address out of the Service CIDR", "192.0.2.1", 1, 0)
	update(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.workload().Name}}, func(s *corev1.Service) {
		metav1.SetMetaDataAnnotation(&s.ObjectMeta, "example.com/touched", "yes")
	})
	asks("a changed Service", "192.0.2.1", 1, 0)
}

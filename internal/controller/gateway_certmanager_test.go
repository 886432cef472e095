package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
)

// TestGatewayIssuerRefWithoutCertManager asks for a cert-manager issuer where cert-manager
// is not installed: the condition says so, and the rest of the fleet is provisioned.
func TestGatewayIssuerRefWithoutCertManager(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{TLS: &v1alpha1.AdminTLSSpec{
		IssuerRef: &v1alpha1.IssuerReference{Kind: certs.KindClusterIssuer, Name: "corporate-ca"},
	}}})
	f.waitGateway(t, func(g *gwapiv1.Gateway) error {
		return checkCondition(g.Status.Conditions, status.ConditionAdminCertificates, g.Generation, wantCondition{
			metav1.ConditionFalse, status.ReasonIssuingFailed,
			"spec.controlPlane.tls.issuerRef needs cert-manager, which is not installed"})
	})
	waitFor(t, f.workload(), &corev1.Service{}, exists)
	var secrets corev1.SecretList
	if err := k8s.List(ctxFor(t), &secrets, client.InNamespace(f.ns)); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("the built-in CA issued %d Secrets although an issuerRef is set", len(secrets.Items))
	}
}

// certManagerController is the controllerName of the second manager started by
// TestGatewayCertManagerChain.
const certManagerController gwapiv1.GatewayController = "caddygateway.io/cert-manager-test"

// TestGatewayCertManagerChain installs stand-ins for cert-manager's Issuer and Certificate
// CRDs and shows the default chain of cert-manager objects instead of the built-in CA.
//
// The suite's manager caches API discovery: once it has seen cert-manager.io it would keep
// taking the cert-manager path after the CRDs are gone. So this test does not call
// t.Parallel (it runs before every parallel test starts, when no Gateway of the suite's
// controller exists), runs its own manager with its own controllerName, and removes the
// CRDs (and waits for discovery to forget them) before the parallel tests begin.
func TestGatewayCertManagerChain(t *testing.T) {
	installCertManagerCRDs(t)
	startManager(t, certManagerController)

	ns := newNamespace(t)
	class := uniqueName(t, "class")
	create(t, newClass(class, certManagerController, nil))
	gw := newGateway(ns, "gw", class)
	create(t, gw)
	f := &fixture{ns: ns, class: class, gateway: gw}
	f.waitGateway(t, func(g *gwapiv1.Gateway) error {
		return checkCondition(g.Status.Conditions, status.ConditionAdminCertificates, g.Generation, wantCondition{
			metav1.ConditionTrue, status.ReasonCertManager, "cert-manager issues the admin certificates"})
	})

	n := certs.NamesFor(gw.Name)
	issuer := func(name string) map[string]any {
		return map[string]any{"group": certs.CertManagerGroup, "kind": certs.KindIssuer, "name": name}
	}
	tests := map[string]struct {
		kind, name string
		check      func(spec map[string]any) error
	}{
		"self-signed Issuer": {certs.KindIssuer, n.SelfSignedIssuer, nil},
		"CA Issuer": {certs.KindIssuer, n.CA, func(spec map[string]any) error {
			return fieldIs(spec, n.CA, "ca", "secretName")
		}},
		"CA Certificate": {certs.KindCertificate, n.CA, func(spec map[string]any) error {
			return fieldIs(spec, issuer(n.SelfSignedIssuer), "issuerRef")
		}},
		"server Certificate": {certs.KindCertificate, n.Server, func(spec map[string]any) error {
			if err := fieldIs(spec, []any{certs.ServerName(gw.Name, ns)}, "dnsNames"); err != nil {
				return err
			}
			return fieldIs(spec, issuer(n.CA), "issuerRef")
		}},
		"client Certificate": {certs.KindCertificate, n.Client, func(spec map[string]any) error {
			if err := fieldIs(spec, []any{certs.OperatorURI}, "uris"); err != nil {
				return err
			}
			return fieldIs(spec, issuer(n.CA), "issuerRef")
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(certs.CertManagerAPIVersion)
			u.SetKind(tc.kind)
			waitFor(t, f.key(tc.name), u, func(u *unstructured.Unstructured) error {
				if err := checkOwnedNotControlled(u, gw); err != nil {
					return err
				}
				if tc.check == nil {
					return nil
				}
				spec, _, _ := unstructured.NestedMap(u.Object, "spec")
				return tc.check(spec)
			})
		})
	}
	// cert-manager, not the operator, writes the Secrets.
	var secrets corev1.SecretList
	if err := k8s.List(ctxFor(t), &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("the operator wrote %d Secrets although cert-manager is installed", len(secrets.Items))
	}
	waitFor(t, f.workload(), &corev1.Service{}, exists)

	// Each cert-manager object deleted (by cert-manager's gateway-shim, by hand) is back
	// within seconds.
	for name, tc := range tests {
		t.Run("restores "+name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(certs.CertManagerAPIVersion)
			u.SetKind(tc.kind)
			deleteAndWaitRestored(t, f.key(tc.name), u)
		})
	}
	t.Run("drops the controller reference an earlier version applied", func(t *testing.T) {
		dropsEarlierControllerReference(t, f, n.Client)
	})

	// A move to another controller's class takes the cert-manager objects along, and the
	// Secret cert-manager issued for a Certificate (stood in for here: no cert-manager runs).
	issued := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n.Server, Labels: map[string]string{
		infra.LabelManagedBy: infra.ManagedByValue, infra.LabelName: infra.NameValue, infra.LabelGatewayName: gw.Name,
	}}}
	create(t, issued)
	other := uniqueName(t, "other")
	create(t, newClass(other, "example.com/another-controller", nil))
	update(t, gw, func(g *gwapiv1.Gateway) { g.Spec.GatewayClassName = gwapiv1.ObjectName(other) })
	for name, tc := range tests {
		t.Run("releases "+name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(certs.CertManagerAPIVersion)
			u.SetKind(tc.kind)
			waitGone(t, f.key(tc.name), u)
		})
	}
	waitGone(t, client.ObjectKeyFromObject(issued), &corev1.Secret{})
	waitGone(t, f.workload(), &corev1.Service{})
}

// dropsEarlierControllerReference applies the Certificate name of the fixture's Gateway
// the way versions before this one did, as the operator's field manager with a
// controller reference to the Gateway, and shows that the operator's next apply of it
// (a Gateway change here; the first reconcile after an upgrade) leaves only a plain owner
// reference.
func dropsEarlierControllerReference(t *testing.T, f *fixture, name string) {
	live := &unstructured.Unstructured{}
	live.SetAPIVersion(certs.CertManagerAPIVersion)
	live.SetKind(certs.KindCertificate)
	waitFor(t, f.key(name), live, exists)
	old := &unstructured.Unstructured{Object: map[string]any{"spec": live.Object["spec"]}}
	old.SetAPIVersion(certs.CertManagerAPIVersion)
	old.SetKind(certs.KindCertificate)
	old.SetName(name)
	old.SetNamespace(f.ns)
	old.SetLabels(live.GetLabels())
	old.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway", Name: f.gateway.Name, UID: f.gateway.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}})
	if err := k8s.Apply(ctxFor(t), client.ApplyConfigurationFromUnstructured(old), client.FieldOwner(controller.FieldOwner), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctxFor(t), f.key(name), live); err != nil {
		t.Fatal(err)
	}
	if metav1.GetControllerOf(live) == nil {
		t.Fatalf("the earlier version's apply left no controller reference: %+v", live.GetOwnerReferences())
	}
	update(t, f.gateway, func(g *gwapiv1.Gateway) {
		g.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{Labels: map[gwapiv1.LabelKey]gwapiv1.LabelValue{"example.com/tier": "edge"}}
	})
	waitFor(t, f.key(name), live, func(u *unstructured.Unstructured) error {
		if u.GetLabels()["example.com/tier"] != "edge" {
			return fmt.Errorf("not applied again yet: labels %v", u.GetLabels())
		}
		return checkOwnedNotControlled(u, f.gateway)
	})
}

// checkOwnedNotControlled checks that obj is owned by gw, so that it goes with it, but
// not controlled by it, which would let cert-manager's gateway-shim delete it, and that it
// carries the fleet's labels.
func checkOwnedNotControlled(obj client.Object, gw *gwapiv1.Gateway) error {
	if ref := metav1.GetControllerOf(obj); ref != nil {
		return fmt.Errorf("%T %s has the controller reference %+v, want none", obj, obj.GetName(), ref)
	}
	var owner *metav1.OwnerReference
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == gw.UID {
			owner = &ref
		}
	}
	if owner == nil || owner.Kind != "Gateway" || owner.Name != gw.Name || owner.APIVersion != gwapiv1.GroupVersion.String() ||
		owner.BlockOwnerDeletion == nil || !*owner.BlockOwnerDeletion {
		return fmt.Errorf("%T %s: owner references are %+v, want Gateway %s (uid %s) blocking deletion",
			obj, obj.GetName(), obj.GetOwnerReferences(), gw.Name, gw.UID)
	}
	return hasAll(fmt.Sprintf("%T %s labels", obj, obj.GetName()), obj.GetLabels(), map[string]string{
		infra.LabelManagedBy: infra.ManagedByValue, infra.LabelName: infra.NameValue, infra.LabelGatewayName: gw.Name,
	})
}

// fieldIs checks the value at path in obj.
func fieldIs(obj map[string]any, want any, path ...string) error {
	got, _, err := unstructured.NestedFieldNoCopy(obj, path...)
	if err != nil {
		return err
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("%v is %v, want %v", path, got, want)
	}
	return nil
}

// installCertManagerCRDs installs namespaced cert-manager.io/v1 Issuer and Certificate
// CRDs that accept any spec, and removes them when the test ends.
func installCertManagerCRDs(t *testing.T) {
	t.Helper()
	anything := &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}
	for _, kind := range []string{certs.KindIssuer, certs.KindCertificate} {
		plural := map[string]string{certs.KindIssuer: "issuers", certs.KindCertificate: "certificates"}[kind]
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: plural + "." + certs.CertManagerGroup},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: certs.CertManagerGroup, Scope: apiextensionsv1.NamespaceScoped,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"spec": *anything, "status": *anything}}},
				}},
			},
		}
		if err := k8s.Create(ctxFor(t), crd); err != nil {
			t.Fatalf("creating CRD %s: %v", crd.Name, err)
		}
		t.Cleanup(func() { deleteCRD(t, crd) })
		waitFor(t, client.ObjectKeyFromObject(crd), crd, func(c *apiextensionsv1.CustomResourceDefinition) error {
			for _, cond := range c.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
			return fmt.Errorf("CRD %s is not established: %+v", c.Name, c.Status.Conditions)
		})
	}
}

// deleteCRD deletes crd and waits until API discovery no longer lists its resource, so
// that no manager can pick it up afterwards.
func deleteCRD(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k8s.Delete(ctx, crd); client.IgnoreNotFound(err) != nil {
		t.Errorf("deleting CRD %s: %v", crd.Name, err)
		return
	}
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Error(err)
		return
	}
	eventually(t, waitTimeout, func() error {
		list, err := dc.ServerResourcesForGroupVersion(certs.CertManagerAPIVersion)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range list.APIResources {
			if r.Name == crd.Spec.Names.Plural {
				return fmt.Errorf("discovery still serves %s", crd.Name)
			}
		}
		return nil
	})
}

// startManager runs a second manager, with the suite's options but its own controllerName
// and a fresh discovery cache, until the test ends.
func startManager(t *testing.T, name gwapiv1.GatewayController) {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: controller.CacheOptions(),
		// Controller names are global to the process: the suite's manager uses them too.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controller.Setup(ctx, mgr, controller.Options{ControllerName: name, CaddyImage: "caddy:test",
		OperatorImage: "operator:test", Operator: infra.OperatorPods{Namespace: "caddy-gateway-system"}}); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the second manager stopped with an error: %v", err)
		}
	})
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("the second manager's caches did not sync")
	}
}

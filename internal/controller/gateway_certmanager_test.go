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
	if err := k8s.List(ctxFor(t), &secrets, client.InNamespace(operatorNS),
		client.MatchingLabels{certs.LabelGatewayUID: string(f.gateway.UID)}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("the operator's namespace holds %d Secrets of the Gateway although an issuerRef is set", len(secrets.Items))
	}
}

// certManagerController is the controllerName of the second manager started by
// TestGatewayCertManagerChain.
const certManagerController gwapiv1.GatewayController = "caddygateway.io/cert-manager-test"

// TestGatewayCertManagerChain installs stand-ins for cert-manager's Issuer and Certificate
// CRDs and shows the default chain of cert-manager objects, in the operator's namespace,
// instead of the built-in CA; the server Secret copied into the Gateway's namespace once
// cert-manager (stood in for: no cert-manager runs) has issued; a CA rotation keeping both
// CAs trusted and having both leaves reissued; and the release of it all.
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

	n := f.admin()
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
			if err := fieldIs(spec, []any{certs.OperatorIdentity(ns, gw.Name)}, "uris"); err != nil {
				return err
			}
			return fieldIs(spec, issuer(n.CA), "issuerRef")
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			waitFor(t, adminKey(tc.name), certManagerObject(tc.kind), func(u *unstructured.Unstructured) error {
				if err := checkAdminMeta(u, gw); err != nil {
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
	// Nothing of cert-manager's in the Gateway's namespace, and no Secret before one is issued.
	for _, kind := range []string{certs.KindIssuer, certs.KindCertificate} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(certs.CertManagerAPIVersion)
		list.SetKind(kind + "List")
		if err := k8s.List(ctxFor(t), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 0 {
			t.Errorf("the Gateway's namespace holds %d %ss", len(list.Items), kind)
		}
	}
	var secrets corev1.SecretList
	if err := k8s.List(ctxFor(t), &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("the Gateway's namespace holds %d Secrets before cert-manager issued any", len(secrets.Items))
	}
	waitFor(t, f.workload(), &corev1.Service{}, exists)

	// Each cert-manager object deleted (by hand, by a sweep gone wrong) is back within seconds.
	for name, tc := range tests {
		t.Run("restores "+name, func(t *testing.T) {
			deleteAndWaitRestored(t, adminKey(tc.name), certManagerObject(tc.kind))
		})
	}

	t.Run("CA rotation", func(t *testing.T) { certManagerRotation(t, f) })
	t.Run("issuerRef outside the operator's namespace", func(t *testing.T) { certManagerIssuerPlace(t) })

	// A move to another controller's class takes the cert-manager objects along, the
	// Secrets cert-manager issued for them, the trust bundle and the server copy.
	other := uniqueName(t, "other")
	create(t, newClass(other, "example.com/another-controller", nil))
	update(t, gw, func(g *gwapiv1.Gateway) { g.Spec.GatewayClassName = gwapiv1.ObjectName(other) })
	for name, tc := range tests {
		t.Run("releases "+name, func(t *testing.T) {
			waitGone(t, adminKey(tc.name), certManagerObject(tc.kind))
		})
	}
	for _, name := range []string{n.CA, n.Server, n.Client, n.Trust} {
		waitGone(t, adminKey(name), &corev1.Secret{})
	}
	waitGone(t, f.key(certs.ServerSecret(gw.Name)), &corev1.Secret{})
	waitGone(t, f.workload(), &corev1.Service{})
}

// certManagerRotation issues the fixture's admin Secrets the way cert-manager does (CA 1),
// shows the server copy, then replaces the CA Secret with CA 2 (a deleted CA Secret
// reissued): the trust bundle holds both CAs, the server Certificate is asked to reissue
// at once and the client Certificate after the mount grace, and the server certificate
// cert-manager then issues reaches the copy with the bundle.
func certManagerRotation(t *testing.T, f *fixture) {
	n := f.admin()
	ca1 := newTestCA(t, "ca1", time.Now().Add(-time.Hour))
	ca2 := newTestCA(t, "ca2", time.Now())
	issueAs(t, f, n.CA, ca1, ca1)
	server := issueAs(t, f, n.Server, issueServer(t, f, ca1), ca1)
	issueAs(t, f, n.Client, issueClient(t, f, ca1), ca1)
	checkServerCopy(t, f, server, ca1.CertPEM)
	for _, name := range []string{n.Server, n.Client} {
		if c := issuingCondition(t, name); c != nil {
			t.Fatalf("Certificate %s asked to reissue without a CA change: %v", name, c)
		}
	}

	issueAs(t, f, n.CA, ca2, ca2)
	trust := waitFor(t, adminKey(n.Trust), &corev1.Secret{}, func(s *corev1.Secret) error {
		if want := string(ca2.CertPEM) + string(ca1.CertPEM); string(s.Data[certs.SecretCAKey]) != want {
			return fmt.Errorf("the trust bundle is not CA 2 then CA 1")
		}
		return nil
	})
	changed, err := time.Parse(time.RFC3339, trust.Annotations[controller.AnnotationTrustChangedAt])
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTimeout, func() error {
		if issuingCondition(t, n.Server) == nil {
			return fmt.Errorf("the server Certificate is not asked to reissue")
		}
		return nil
	})
	eventually(t, waitTimeout, func() error {
		if issuingCondition(t, n.Client) == nil {
			return fmt.Errorf("the client Certificate is not asked to reissue")
		}
		return nil
	})
	if waited := time.Since(changed); waited < testMountGrace-time.Second {
		t.Errorf("the client Certificate was asked to reissue %v after the bundle changed, before the mount grace %v", waited, testMountGrace)
	}
	// The server copy follows the reissued server certificate, with both CAs trusted.
	server = issueAs(t, f, n.Server, issueServer(t, f, ca2), ca2)
	checkServerCopy(t, f, server, ca2.CertPEM)
}

// certManagerObject is an empty cert-manager object of kind.
func certManagerObject(kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(certs.CertManagerAPIVersion)
	u.SetKind(kind)
	return u
}

// issuingCondition returns the Issuing condition of the Certificate name, or nil.
func issuingCondition(t *testing.T, name string) map[string]any {
	t.Helper()
	u := certManagerObject(certs.KindCertificate)
	if err := k8s.Get(ctxFor(t), adminKey(name), u); err != nil {
		t.Fatal(err)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Issuing" && m["status"] == "True" {
			return m
		}
	}
	return nil
}

// issueAs writes the Secret of the Certificate name as cert-manager does: kp issued by
// ca, with the Certificate's secretTemplate.
func issueAs(t *testing.T, f *fixture, name string, kp, ca *certs.KeyPair) *corev1.Secret {
	t.Helper()
	cert := waitFor(t, adminKey(name), certManagerObject(certs.KindCertificate), exists)
	labels, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "secretTemplate", "labels")
	annotations, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "secretTemplate", "annotations")
	s := &corev1.Secret{}
	err := k8s.Get(ctxFor(t), adminKey(name), s)
	s.ObjectMeta = metav1.ObjectMeta{Namespace: operatorNS, Name: name, Labels: labels, Annotations: annotations, ResourceVersion: s.ResourceVersion}
	s.Type, s.Data = corev1.SecretTypeTLS, certs.SecretData(kp, ca)
	if apierrors.IsNotFound(err) {
		err = k8s.Create(ctxFor(t), s)
	} else if err == nil {
		err = k8s.Update(ctxFor(t), s)
	}
	if err != nil {
		t.Fatalf("issuing Secret %s: %v", name, err)
	}
	return s
}

func newTestCA(t *testing.T, name string, at time.Time) *certs.KeyPair {
	t.Helper()
	ca, err := certs.NewCA(name, certs.IssueOptions{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issueServer(t *testing.T, f *fixture, ca *certs.KeyPair) *certs.KeyPair {
	t.Helper()
	kp, err := ca.IssueServer(certs.ServerName(f.gateway.Name, f.ns), certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func issueClient(t *testing.T, f *fixture, ca *certs.KeyPair) *certs.KeyPair {
	t.Helper()
	kp, err := ca.IssueGatewayClient(f.ns, f.gateway.Name, certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return kp
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
					Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
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
		OperatorImage: "operator:test", Operator: infra.OperatorPods{Namespace: operatorNS}, MountGrace: testMountGrace}); err != nil {
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

// certManagerIssuerPlace names, in issuerRef, an Issuer that lives in the Gateway's
// namespace, where the admin certificates are no longer issued: the condition names the
// field and the namespace to use. The same name in the operator's namespace is fine.
func certManagerIssuerPlace(t *testing.T) {
	ns := newNamespace(t)
	const name = "team-ca"
	for _, issuerNS := range []string{ns, operatorNS} {
		u := certManagerObject(certs.KindIssuer)
		u.SetNamespace(issuerNS)
		u.SetName(uniqueName(t, name))
		u.Object["spec"] = map[string]any{"selfSigned": map[string]any{}}
		create(t, u)
		params := newCPC(ns, "params-"+issuerNS, v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{
			TLS: &v1alpha1.AdminTLSSpec{IssuerRef: &v1alpha1.IssuerReference{Kind: certs.KindIssuer, Name: u.GetName()}},
		}})
		create(t, params)
		class := uniqueName(t, "class")
		create(t, newClass(class, certManagerController, paramsRef(ns, params.Name)))
		gw := newGateway(ns, "gw-"+issuerNS, class)
		create(t, gw)
		want := wantCondition{metav1.ConditionTrue, status.ReasonCertManager, "cert-manager issues the admin certificates"}
		if issuerNS != operatorNS {
			want = wantCondition{metav1.ConditionFalse, status.ReasonIssuingFailed, fmt.Sprintf(
				"spec.controlPlane.tls.issuerRef: Issuer %q is not in the operator's namespace %q, where the admin "+
					"certificates are issued; name an Issuer there or a ClusterIssuer", u.GetName(), operatorNS)}
		}
		f := &fixture{ns: ns, class: class, gateway: gw}
		f.waitGateway(t, func(g *gwapiv1.Gateway) error {
			return checkCondition(g.Status.Conditions, status.ConditionAdminCertificates, g.Generation, want)
		})
	}
}

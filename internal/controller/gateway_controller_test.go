package controller_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
)

// Conditions every healthy Gateway of this operator carries before the push issue lands.
var (
	gatewayAccepted = wantCondition{metav1.ConditionTrue, string(gwapiv1.GatewayReasonAccepted), "Gateway is accepted"}
	builtInCA       = wantCondition{metav1.ConditionTrue, status.ReasonBuiltInCA,
		"cert-manager is not installed; the operator's built-in CA issues the admin certificates"}
)

func gatewayInvalidParameters(message string) wantCondition {
	return wantCondition{metav1.ConditionFalse, string(gwapiv1.GatewayReasonInvalidParameters), message}
}

// fixture is a namespace with a class of ours whose CaddyProxyConfig is Params, and a
// Gateway of that class.
type fixture struct {
	ns      string
	class   string
	params  *v1alpha1.CaddyProxyConfig
	gateway *gwapiv1.Gateway
}

// gatewayOption changes the Gateway of a fixture before it is created.
type gatewayOption func(*gwapiv1.Gateway)

// withListeners replaces the Gateway's listeners.
func withListeners(ls ...gwapiv1.Listener) gatewayOption {
	return func(gw *gwapiv1.Gateway) { gw.Spec.Listeners = ls }
}

// withInfrastructureMeta sets spec.infrastructure labels and annotations.
func withInfrastructureMeta(labels, annotations map[string]string) gatewayOption {
	return func(gw *gwapiv1.Gateway) {
		if gw.Spec.Infrastructure == nil {
			gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{}
		}
		gw.Spec.Infrastructure.Labels = map[gwapiv1.LabelKey]gwapiv1.LabelValue{}
		for k, v := range labels {
			gw.Spec.Infrastructure.Labels[gwapiv1.LabelKey(k)] = gwapiv1.LabelValue(v)
		}
		gw.Spec.Infrastructure.Annotations = map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{}
		for k, v := range annotations {
			gw.Spec.Infrastructure.Annotations[gwapiv1.AnnotationKey(k)] = gwapiv1.AnnotationValue(v)
		}
	}
}

// withGatewayParams sets spec.infrastructure.parametersRef to the CaddyProxyConfig name.
func withGatewayParams(name string) gatewayOption {
	return func(gw *gwapiv1.Gateway) {
		if gw.Spec.Infrastructure == nil {
			gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{}
		}
		gw.Spec.Infrastructure.ParametersRef = &gwapiv1.LocalParametersReference{
			Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig, Name: name,
		}
	}
}

// newFixture creates a namespace, the class's CaddyProxyConfig "params" with spec, the
// class and the Gateway "gw", and waits until the Gateway is accepted.
func newFixture(t *testing.T, spec v1alpha1.CaddyProxyConfigSpec, opts ...gatewayOption) *fixture {
	t.Helper()
	return newFixtureIn(t, newNamespace(t), spec, opts...)
}

// newFixtureIn is newFixture in an existing namespace.
func newFixtureIn(t *testing.T, ns string, spec v1alpha1.CaddyProxyConfigSpec, opts ...gatewayOption) *fixture {
	t.Helper()
	f := &fixture{ns: ns, class: uniqueName(t, "class")}
	f.params = newCPC(f.ns, "params", spec)
	create(t, f.params)
	create(t, newClass(f.class, controllerName, paramsRef(f.ns, "params")))
	f.gateway = newGateway(f.ns, "gw", f.class)
	for _, o := range opts {
		o(f.gateway)
	}
	create(t, f.gateway)
	f.waitGateway(t, gatewayAcceptedIs(gatewayAccepted))
	return f
}

// key returns the key of the fleet object named name in the fixture's namespace.
func (f *fixture) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: f.ns, Name: name}
}

// workload is the name shared by the ServiceAccount, workload, Service, NetworkPolicy,
// HorizontalPodAutoscaler and PodDisruptionBudget.
func (f *fixture) workload() client.ObjectKey { return f.key(infra.NamesFor(f.gateway.Name).Workload) }

// waitGateway polls the Gateway until check passes, and returns it.
func (f *fixture) waitGateway(t *testing.T, check func(*gwapiv1.Gateway) error) *gwapiv1.Gateway {
	t.Helper()
	var gw gwapiv1.Gateway
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &gw); err != nil {
			return err
		}
		return check(&gw)
	})
	return &gw
}

// gatewayAcceptedIs checks the Gateway's Accepted condition against want.
func gatewayAcceptedIs(want wantCondition) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		return checkCondition(gw.Status.Conditions, string(gwapiv1.GatewayConditionAccepted), gw.Generation, want)
	}
}

// waitFor polls the object at key into obj until check passes, and returns obj.
func waitFor[T client.Object](t *testing.T, key client.ObjectKey, obj T, check func(T) error) T {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), key, obj); err != nil {
			return err
		}
		return check(obj)
	})
	return obj
}

// exists is a check that accepts any object.
func exists[T client.Object](T) error { return nil }

// waitGone polls until the object at key no longer exists.
func waitGone(t *testing.T, key client.ObjectKey, obj client.Object) {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		err := k8s.Get(ctxFor(t), key, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("%T %s still exists (err %v)", obj, key, err)
	})
}

// checkFleetMeta checks that obj is controlled by gw and carries the fleet's labels.
func checkFleetMeta(obj client.Object, gw *gwapiv1.Gateway) error {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != gw.UID || ref.Kind != "Gateway" || ref.Name != gw.Name ||
		ref.APIVersion != gwapiv1.GroupVersion.String() || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		return fmt.Errorf("%T %s: controller reference is %+v, want Gateway %s (uid %s) blocking deletion",
			obj, obj.GetName(), ref, gw.Name, gw.UID)
	}
	want := map[string]string{
		infra.LabelManagedBy: infra.ManagedByValue, infra.LabelName: infra.NameValue,
		infra.LabelGatewayName: gw.Name,
	}
	return hasAll(fmt.Sprintf("%T %s labels", obj, obj.GetName()), obj.GetLabels(), want)
}

// hasAll checks that got contains every key of want with its value.
func hasAll(what string, got, want map[string]string) error {
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return fmt.Errorf("%s are %v, want %s=%q among them", what, got, k, v)
		}
	}
	return nil
}

// TestGatewayProvisionsFleet shows a Gateway of our class yielding its whole fleet, owned
// by it, the admin certificates of the built-in CA, and its status.
func TestGatewayProvisionsFleet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
			TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "cert"}}}},
		gwapiv1.Listener{Name: "other-host", Protocol: gwapiv1.HTTPProtocolType, Port: 80, Hostname: ptrTo[gwapiv1.Hostname]("a.example.com")},
	))
	gw := f.gateway
	names := infra.NamesFor(gw.Name)

	objs := map[string]client.Object{
		"ServiceAccount": &corev1.ServiceAccount{}, "Deployment": &appsv1.Deployment{},
		"Service": &corev1.Service{}, "NetworkPolicy": &networkingv1.NetworkPolicy{},
	}
	for kind, obj := range objs {
		t.Run(kind, func(t *testing.T) {
			waitFor(t, f.workload(), obj, func(o client.Object) error { return checkFleetMeta(o, gw) })
		})
	}
	t.Run("ConfigMap", func(t *testing.T) {
		cm := waitFor(t, f.key(names.Bootstrap), &corev1.ConfigMap{}, func(o *corev1.ConfigMap) error { return checkFleetMeta(o, gw) })
		if got := cm.Data[infra.BootstrapKey]; got != infra.BootstrapConfig {
			t.Errorf("bootstrap config is %q, want %q", got, infra.BootstrapConfig)
		}
	})

	svc := objs["Service"].(*corev1.Service)
	wantPorts := []corev1.ServicePort{
		{Name: "tcp-80", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)},
		{Name: "tcp-443", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(443)},
	}
	if len(svc.Spec.Ports) != len(wantPorts) {
		t.Fatalf("Service ports are %+v, want %+v", svc.Spec.Ports, wantPorts)
	}
	for i, p := range svc.Spec.Ports {
		p.NodePort = 0 // allocated by the API server for a LoadBalancer Service
		if p != wantPorts[i] {
			t.Errorf("Service port %d is %+v, want %+v", i, p, wantPorts[i])
		}
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.ClusterIP == "" {
		t.Errorf("Service type %s, clusterIP %q: want a LoadBalancer with a cluster IP", svc.Spec.Type, svc.Spec.ClusterIP)
	}

	t.Run("admin certificates", func(t *testing.T) { checkBuiltInSecrets(t, f) })

	got := f.waitGateway(t, func(g *gwapiv1.Gateway) error {
		for typ, want := range map[string]wantCondition{
			string(gwapiv1.GatewayConditionAccepted): gatewayAccepted,
			status.ConditionAdminCertificates:        builtInCA,
		} {
			if err := checkCondition(g.Status.Conditions, typ, g.Generation, want); err != nil {
				return err
			}
		}
		// No Caddy pod runs in envtest, so nothing is programmed; the message is the push's.
		programmed := meta.FindStatusCondition(g.Status.Conditions, string(gwapiv1.GatewayConditionProgrammed))
		if programmed == nil || programmed.Status != metav1.ConditionFalse ||
			programmed.Reason != string(gwapiv1.GatewayReasonPending) || programmed.ObservedGeneration != g.Generation {
			return fmt.Errorf("programmed condition is %+v, want False/Pending for generation %d", programmed, g.Generation)
		}
		if len(g.Status.Addresses) != 1 || g.Status.Addresses[0].Value != svc.Spec.ClusterIP ||
			g.Status.Addresses[0].Type == nil || *g.Status.Addresses[0].Type != gwapiv1.IPAddressType {
			return fmt.Errorf("status.addresses are %+v, want the IP %s", g.Status.Addresses, svc.Spec.ClusterIP)
		}
		return nil
	})

	// Once provisioned, nothing is written again: no reconcile loop.
	assertSettled(t, got)
	for _, o := range objs {
		assertSettled(t, o)
	}
}

// checkBuiltInSecrets checks the Secrets of the built-in CA, all kubernetes.io/tls in the
// operator's namespace and tied to the Gateway: the CA, a server certificate for
// certs.ServerName and a client certificate for the Gateway's identity, both chaining to
// the CA; and the copy in the Gateway's namespace, owned by it, with the server
// certificate and key and the trust bundle, and no CA key.
func checkBuiltInSecrets(t *testing.T, f *fixture) {
	t.Helper()
	n := f.admin()
	secret := func(name string) *corev1.Secret {
		return waitFor(t, adminKey(name), &corev1.Secret{}, func(s *corev1.Secret) error {
			if s.Type != corev1.SecretTypeTLS {
				return fmt.Errorf("secret %s has type %s, want %s", name, s.Type, corev1.SecretTypeTLS)
			}
			return checkAdminMeta(s, f.gateway)
		})
	}
	caSecret := secret(n.CA)
	ca := parseCert(t, caSecret.Data[certs.SecretCertKey])
	if !ca.IsCA || string(caSecret.Data[certs.SecretCAKey]) != string(caSecret.Data[certs.SecretCertKey]) {
		t.Errorf("CA Secret: IsCA %t, ca.crt equal to tls.crt %t; want both", ca.IsCA,
			string(caSecret.Data[certs.SecretCAKey]) == string(caSecret.Data[certs.SecretCertKey]))
	}
	identity := certs.OperatorIdentity(f.ns, f.gateway.Name)
	tests := map[string]struct {
		secret string
		opts   x509.VerifyOptions
		check  func(*x509.Certificate) error
	}{
		"server": {
			secret: n.Server,
			opts: x509.VerifyOptions{DNSName: certs.ServerName(f.gateway.Name, f.ns),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		},
		"client": {
			secret: n.Client,
			opts:   x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
			check: func(c *x509.Certificate) error {
				if len(c.URIs) != 1 || c.URIs[0].String() != identity {
					return fmt.Errorf("URI SANs are %v, want [%s]", c.URIs, identity)
				}
				return nil
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := secret(tc.secret)
			kp, err := certs.ParseKeyPair(s.Data[certs.SecretCertKey], s.Data[certs.SecretKeyKey])
			if err != nil {
				t.Fatal(err)
			}
			if string(s.Data[certs.SecretCAKey]) != string(caSecret.Data[certs.SecretCertKey]) {
				t.Errorf("ca.crt of %s is not the CA of Secret %s", tc.secret, n.CA)
			}
			tc.opts.Roots = x509.NewCertPool()
			tc.opts.Roots.AddCert(ca)
			if _, err := kp.Cert.Verify(tc.opts); err != nil {
				t.Errorf("%s certificate does not verify: %v", name, err)
			}
			if tc.check != nil {
				if err := tc.check(kp.Cert); err != nil {
					t.Error(err)
				}
			}
		})
	}
	t.Run("copy in the Gateway's namespace", func(t *testing.T) {
		checkServerCopy(t, f, secret(n.Server), caSecret.Data[certs.SecretCertKey])
	})
	var inGatewayNS corev1.SecretList
	if err := k8s.List(ctxFor(t), &inGatewayNS, client.InNamespace(f.ns)); err != nil {
		t.Fatal(err)
	}
	if len(inGatewayNS.Items) != 1 {
		t.Errorf("the Gateway's namespace holds %d Secrets, want only the server copy", len(inGatewayNS.Items))
	}
}

// checkServerCopy waits until the Secret the pods mount, in the Gateway's namespace,
// holds server's certificate and key and a ca.crt that is the trust bundle, whose first
// CA is wantCA; and checks it is owned by the Gateway and holds no other key.
func checkServerCopy(t *testing.T, f *fixture, server *corev1.Secret, wantCA []byte) *corev1.Secret {
	t.Helper()
	trust := waitFor(t, adminKey(f.admin().Trust), &corev1.Secret{}, func(s *corev1.Secret) error {
		if !strings.HasPrefix(string(s.Data[certs.SecretCAKey]), string(wantCA)) {
			return fmt.Errorf("the trust bundle does not start with the expected CA")
		}
		return checkAdminMeta(s, f.gateway)
	})
	return waitFor(t, f.key(certs.ServerSecret(f.gateway.Name)), &corev1.Secret{}, func(s *corev1.Secret) error {
		if err := checkFleetMeta(s, f.gateway); err != nil {
			return err
		}
		if len(s.Data) != 3 || string(s.Data[certs.SecretCertKey]) != string(server.Data[certs.SecretCertKey]) ||
			string(s.Data[certs.SecretKeyKey]) != string(server.Data[certs.SecretKeyKey]) ||
			string(s.Data[certs.SecretCAKey]) != string(trust.Data[certs.SecretCAKey]) {
			return fmt.Errorf("copy %s holds keys %v, not the server certificate, its key and the trust bundle", s.Name, slices.Sorted(maps.Keys(s.Data)))
		}
		return nil
	})
}

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block in certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGatewayKeepsForeignServiceFields shows server-side apply at work: an annotation
// another field manager set on the Service survives the operator's later applies, while
// the operator's own annotations follow the CaddyProxyConfig, removals included.
func TestGatewayKeepsForeignServiceFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
		Annotations: map[string]string{"example.com/ours": "1", "example.com/dropped": "x"},
	}})
	svc := waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		return hasAll("Service annotations", s.Annotations, map[string]string{"example.com/ours": "1"})
	})
	foreign := map[string]string{"cloud-lb.example.com/id": "lb-123"}
	before := svc.DeepCopy()
	maps.Copy(svc.Annotations, foreign)
	if err := k8s.Patch(ctxFor(t), svc, client.MergeFrom(before), client.FieldOwner("cloud-lb")); err != nil {
		t.Fatal(err)
	}

	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Service.Annotations = map[string]string{"example.com/ours": "2"}
	})
	waitFor(t, f.workload(), svc, func(s *corev1.Service) error {
		if _, ok := s.Annotations["example.com/dropped"]; ok {
			return fmt.Errorf("annotation example.com/dropped is still set: %v", s.Annotations)
		}
		return hasAll("Service annotations", s.Annotations, map[string]string{"example.com/ours": "2"})
	})
	if err := hasAll("Service annotations after the operator's apply", svc.Annotations, foreign); err != nil {
		t.Error(err)
	}
	// And it stays so: the operator does not fight the other manager.
	consistently(t, quietPeriod, func() error {
		var s corev1.Service
		if err := k8s.Get(ctxFor(t), f.workload(), &s); err != nil {
			return err
		}
		return hasAll("Service annotations", s.Annotations, foreign)
	})
}

// TestGatewayOfAnotherController shows that a Gateway whose class belongs to another
// controller gets no objects and no status from this operator.
func TestGatewayOfAnotherController(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{}))
	class := uniqueName(t, "class")
	create(t, newClass(class, "example.com/another-controller", paramsRef(ns, "params")))
	gw := newGateway(ns, "gw", class)
	create(t, gw)
	initial := gw.Status.DeepCopy()
	names := infra.NamesFor(gw.Name)
	absent := map[string]client.Object{
		names.Workload: &corev1.Service{}, names.Bootstrap: &corev1.ConfigMap{}, certs.ServerSecret(gw.Name): &corev1.Secret{},
	}
	consistently(t, quietPeriod, func() error {
		for name, obj := range absent {
			if err := k8s.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: name}, obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T %s: want NotFound, got %v", obj, name, err)
			}
		}
		for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceAccountList{}, &corev1.SecretList{}} {
			if err := k8s.List(ctxFor(t), list, client.InNamespace(ns)); err != nil {
				return err
			}
			if n := len(listItems(t, list)); n != 0 {
				return fmt.Errorf("%T in %s has %d items, want none", list, ns, n)
			}
		}
		var got gwapiv1.Gateway
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(gw), &got); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(&got.Status, initial) {
			return fmt.Errorf("status changed to %+v", got.Status)
		}
		return nil
	})
}

// listItems returns the items of a list.
func listItems(t *testing.T, list client.ObjectList) []client.Object {
	t.Helper()
	objs, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(client.Object))
	}
	return out
}

// TestGatewayWithoutParameters shows that parameters are optional: a Gateway whose class
// and own infrastructure name no CaddyProxyConfig gets the default fleet.
func TestGatewayWithoutParameters(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	class := uniqueName(t, "class")
	create(t, newClass(class, controllerName, nil))
	f := &fixture{ns: ns, class: class, gateway: newGateway(ns, "gw", class)}
	create(t, f.gateway)
	f.waitGateway(t, gatewayAcceptedIs(gatewayAccepted))
	waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != infra.DefaultReplicas {
			return fmt.Errorf("Deployment replicas are %v, want %d", d.Spec.Replicas, infra.DefaultReplicas)
		}
		return checkFleetMeta(d, f.gateway)
	})
	waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			return fmt.Errorf("Service type is %s, want the default %s", s.Spec.Type, corev1.ServiceTypeLoadBalancer)
		}
		return nil
	})
}

package controller_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/translator"
)

// automaticListeners are an HTTP listener and an HTTPS listener that asks for automatic
// certificates (on = true) or presents a certificate from a Secret.
func automaticListeners(on bool) []gwapiv1.Listener {
	https := gwapiv1.Listener{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
		Hostname: ptrTo[gwapiv1.Hostname]("www.example.com"),
		TLS:      &gwapiv1.ListenerTLSConfig{Mode: ptrTo(gwapiv1.TLSModeTerminate)}}
	if on {
		https.TLS.Options = map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{translator.OptionAutomaticCertificates: "true"}
	} else {
		https.TLS.CertificateRefs = []gwapiv1.SecretObjectReference{{Name: "cert"}}
	}
	return []gwapiv1.Listener{{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80}, https}
}

// TestGatewayAutomaticCertificateStorage shows the storage of automatic certificates:
// a Gateway that uses them gets its storage Secrets and Leases, a Role on exactly those
// bound to its ServiceAccount and a token in the caddy container alone; what the pods
// write into the storage survives reconciles; a deleted storage object comes back; the
// pods' writes do not make the Gateway reconcile; a Gateway that stops using them loses
// the token, the Role, the RoleBinding and the Leases and keeps the Secrets.
func TestGatewayAutomaticCertificateStorage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(automaticListeners(true)...))
	gw := f.gateway
	store := acmestore.For(gw.Namespace, gw.Name)
	names := infra.NamesFor(gw.Name)

	for _, name := range store.Secrets {
		waitFor(t, f.key(name), &corev1.Secret{}, func(s *corev1.Secret) error {
			if s.Type != corev1.SecretTypeOpaque || len(s.Data) != 0 {
				return fmt.Errorf("Secret %s: type %s with %d keys, want an empty Opaque Secret", name, s.Type, len(s.Data))
			}
			return checkFleetMeta(s, gw)
		})
	}
	for _, name := range store.Leases {
		waitFor(t, f.key(name), &coordinationv1.Lease{}, func(l *coordinationv1.Lease) error { return checkFleetMeta(l, gw) })
	}
	waitFor(t, f.key(names.ACME), &rbacv1.Role{}, func(r *rbacv1.Role) error {
		want := []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: store.Secrets, Verbs: []string{"get", "update"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: store.Leases, Verbs: []string{"get", "update"}},
		}
		if !equality.Semantic.DeepEqual(r.Rules, want) {
			return fmt.Errorf("Role rules are %+v, want %+v", r.Rules, want)
		}
		return checkFleetMeta(r, gw)
	})
	waitFor(t, f.key(names.ACME), &rbacv1.RoleBinding{}, func(b *rbacv1.RoleBinding) error {
		if b.RoleRef.Kind != "Role" || b.RoleRef.Name != names.ACME || len(b.Subjects) != 1 ||
			b.Subjects[0].Kind != rbacv1.ServiceAccountKind || b.Subjects[0].Name != names.Workload || b.Subjects[0].Namespace != gw.Namespace {
			return fmt.Errorf("RoleBinding binds %+v to %+v, want Role %s to ServiceAccount %s", b.RoleRef, b.Subjects, names.ACME, names.Workload)
		}
		return checkFleetMeta(b, gw)
	})
	waitFor(t, f.workload(), &appsv1.Deployment{}, tokenInCaddyOnly(true))

	// Another client (a Caddy pod) writes into a storage Secret and takes a Lease.
	written := map[string][]byte{"certificates.example": []byte("a certificate")}
	update(t, &corev1.Secret{ObjectMeta: objMeta(f.key(store.Secrets[0]))}, func(s *corev1.Secret) { s.Data = written })
	holder := "pod-a/1234"
	update(t, &coordinationv1.Lease{ObjectMeta: objMeta(f.key(store.Leases[0]))}, func(l *coordinationv1.Lease) {
		l.Spec.HolderIdentity = &holder
		l.Spec.LeaseDurationSeconds = ptrTo[int32](15)
	})
	// The pods' writes make no reconcile; a parameter change does, and applies the storage
	// again.
	checkStorageWritesCostNothing(t, f, func(i int) {
		update(t, &corev1.Secret{ObjectMeta: objMeta(f.key(store.Secrets[1]))}, func(s *corev1.Secret) {
			s.Data = map[string][]byte{"lock-free-write": fmt.Appendf(nil, "%d", i)}
		})
		update(t, &coordinationv1.Lease{ObjectMeta: objMeta(f.key(store.Leases[1]))}, func(l *coordinationv1.Lease) {
			l.Spec.HolderIdentity = ptrTo(fmt.Sprintf("pod-b/%d", i))
		})
	})
	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Workload = &v1alpha1.WorkloadSpec{Replicas: ptrTo[int32](3)}
	})
	waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
			return fmt.Errorf("Deployment replicas are %v, want 3", d.Spec.Replicas)
		}
		return nil
	})
	var s corev1.Secret
	must(t, k8s.Get(ctxFor(t), f.key(store.Secrets[0]), &s))
	if !equality.Semantic.DeepEqual(s.Data, written) {
		t.Fatalf("the storage Secret's data is %q after a reconcile, want what the pod wrote, %q", s.Data, written)
	}
	var l coordinationv1.Lease
	must(t, k8s.Get(ctxFor(t), f.key(store.Leases[0]), &l))
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		t.Fatalf("the Lease's holder is %v after a reconcile, want %s", l.Spec.HolderIdentity, holder)
	}

	// A deleted storage Secret or Lease is created again; a label taken off comes back.
	for _, obj := range []client.Object{&corev1.Secret{}, &coordinationv1.Lease{}} {
		name := store.Secrets[2]
		if _, ok := obj.(*coordinationv1.Lease); ok {
			name = store.Leases[2]
		}
		must(t, k8s.Get(ctxFor(t), f.key(name), obj))
		uid := obj.GetUID()
		must(t, k8s.Delete(ctxFor(t), obj))
		waitFor(t, f.key(name), obj, func(o client.Object) error {
			if o.GetUID() == uid {
				return fmt.Errorf("%T %s not deleted yet", o, name)
			}
			return checkFleetMeta(o, gw)
		})
	}
	// The label comes back by a server-side apply of the Secret the pod wrote into, whose
	// data that apply leaves as it is.
	update(t, &corev1.Secret{ObjectMeta: objMeta(f.key(store.Secrets[0]))}, func(s *corev1.Secret) {
		delete(s.Labels, infra.LabelComponent)
	})
	relabelled := waitFor(t, f.key(store.Secrets[0]), &corev1.Secret{}, func(s *corev1.Secret) error {
		return hasAll("storage Secret labels", s.Labels, map[string]string{infra.LabelComponent: infra.ACMEStorageComponent})
	})
	if !equality.Semantic.DeepEqual(relabelled.Data, written) {
		t.Fatalf("the storage Secret's data is %q after the operator applied it again, want what the pod wrote, %q", relabelled.Data, written)
	}

	// Off: the token, the Role, the RoleBinding and the Leases go; the Secrets stay.
	update(t, &gwapiv1.Gateway{ObjectMeta: objMeta(client.ObjectKeyFromObject(gw))}, func(g *gwapiv1.Gateway) {
		g.Spec.Listeners = automaticListeners(false)
	})
	waitFor(t, f.workload(), &appsv1.Deployment{}, tokenInCaddyOnly(false))
	waitGone(t, f.key(names.ACME), &rbacv1.Role{})
	waitGone(t, f.key(names.ACME), &rbacv1.RoleBinding{})
	for _, name := range store.Leases {
		waitGone(t, f.key(name), &coordinationv1.Lease{})
	}
	for _, name := range store.Secrets {
		must(t, k8s.Get(ctxFor(t), f.key(name), &corev1.Secret{}))
	}
	must(t, k8s.Get(ctxFor(t), f.key(store.Secrets[0]), &s))
	if !equality.Semantic.DeepEqual(s.Data, written) {
		t.Fatalf("the storage Secret's data is %q once unused, want it kept, %q", s.Data, written)
	}
}

// storageWrites is how many times checkStorageWritesCostNothing writes.
const storageWrites = 10

// checkStorageWritesCostNothing makes storageWrites writes apart (write(i)) and fails
// when they translate the fixture's Gateway more often than a control Gateway of the same
// class and namespace, which nothing of them concerns: other tests' Namespaces and
// ReferenceGrants reconcile every Gateway, both alike. One translation of slack allows
// for the two Gateways' reconciles coalescing differently.
func checkStorageWritesCostNothing(t *testing.T, f *fixture, write func(i int)) {
	t.Helper()
	control := newGateway(f.ns, "control", f.class)
	create(t, control)
	gw, ctl := client.ObjectKeyFromObject(f.gateway), client.ObjectKeyFromObject(control)
	eventually(t, waitTimeout, func() error {
		if controller.Translations(ctl) == 0 {
			return fmt.Errorf("the control Gateway %s was never translated", ctl)
		}
		return nil
	})
	time.Sleep(quietPeriod)
	before, controlBefore := controller.Translations(gw), controller.Translations(ctl)
	for i := range storageWrites {
		write(i)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	n, c := controller.Translations(gw)-before, controller.Translations(ctl)-controlBefore
	if n > c+1 {
		t.Fatalf("%d storage writes made %d translations of the Gateway; the control Gateway had %d", storageWrites, n, c)
	}
	t.Logf("%d storage writes: %d translations of the Gateway, %d of the control Gateway", storageWrites, n, c)
}

// tokenInCaddyOnly checks that the pod template projects the service account token into
// the caddy container alone (with automatic certificates) or nowhere, never automounted.
func tokenInCaddyOnly(want bool) func(*appsv1.Deployment) error {
	return func(d *appsv1.Deployment) error {
		spec := d.Spec.Template.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			return fmt.Errorf("automountServiceAccountToken is %v, want false", spec.AutomountServiceAccountToken)
		}
		projected := slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
			return v.Projected != nil && slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
				return s.ServiceAccountToken != nil && s.ServiceAccountToken.ExpirationSeconds != nil
			})
		})
		if projected != want {
			return fmt.Errorf("the pod template projects a token: %v, want %v", projected, want)
		}
		for _, c := range spec.Containers {
			mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return m.MountPath == infra.ServiceAccountTokenDir && m.ReadOnly
			})
			if mounted != (want && c.Name == infra.CaddyContainer) {
				return fmt.Errorf("container %s mounts the token: %v", c.Name, mounted)
			}
		}
		return nil
	}
}

func objMeta(key client.ObjectKey) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package controller

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/internal/translator"
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

// What the pods record of their certificates goes into the listener conditions, never into
// the configuration: a state change makes the Gateway reconcile, but its pods are pushed
// nothing (the pusher skips a configuration whose hash they hold).
func TestCertificateStatesLeaveTheConfigUnchanged(t *testing.T) {
	gw := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "web", Generation: 1},
		Spec: gwapiv1.GatewaySpec{GatewayClassName: "caddy", Listeners: []gwapiv1.Listener{
			{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
			{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443, Hostname: ptr.To[gwapiv1.Hostname]("www.example.com"),
				TLS: &gwapiv1.ListenerTLSConfig{Mode: ptr.To(gwapiv1.TLSModeTerminate),
					Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{translator.OptionAutomaticCertificates: "true"}}},
		}},
	}
	hash := func(states map[string]acmestore.CertificateState) string {
		t.Helper()
		out := translateGateway(translator.Input{Gateway: gw, ControllerName: "caddygateway.io/gateway-controller", CertificateStates: states})
		if out.IR.ACME == nil {
			t.Fatal("the Gateway does not use automatic certificates")
		}
		cfg, err := emit.Emit(out.IR, params.EmitOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Hash
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	want := hash(nil)
	for name, s := range map[string]acmestore.CertificateState{
		"obtaining": {Phase: acmestore.Obtaining, Updated: at},
		"valid":     {Phase: acmestore.Valid, NotAfter: at.Add(90 * 24 * time.Hour), Updated: at},
		"failing":   {Phase: acmestore.Failing, Error: "urn:ietf:params:acme:error:rejectedIdentifier", Updated: at},
	} {
		s.Name = "www.example.com"
		if got := hash(map[string]acmestore.CertificateState{s.Name: s}); got != want {
			t.Errorf("%s: the configuration's hash changed with the recorded state", name)
		}
	}
}

// A storage object counts as changed since it was applied only when what the operator
// applies of it (its metadata) or its identity changed, never for what the pods write.
func TestAppliedVersionOfStorage(t *testing.T) {
	labels := map[string]string{infra.LabelComponent: infra.ACMEStorageComponent, infra.LabelManagedBy: infra.ManagedByValue}
	base := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-acme-0", UID: "u1", ResourceVersion: "1", Labels: labels}}
	written := base.DeepCopy()
	written.ResourceVersion, written.Data = "2", map[string][]byte{"k.x": []byte("certificate")}
	if appliedVersion(written) != appliedVersion(base) {
		t.Error("a write of the pods changes the applied version")
	}
	relabelled := written.DeepCopy()
	relabelled.Labels = map[string]string{infra.LabelManagedBy: infra.ManagedByValue}
	recreated := base.DeepCopy()
	recreated.UID = "u2"
	for name, o := range map[string]*corev1.Secret{"relabelled": relabelled, "recreated": recreated} {
		if appliedVersion(o) == appliedVersion(base) {
			t.Errorf("%s: the applied version did not change", name)
		}
	}
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-tls", ResourceVersion: "7"}}
	if appliedVersion(other) != "7" {
		t.Errorf("another object's applied version is %q, want its resourceVersion", appliedVersion(other))
	}
}

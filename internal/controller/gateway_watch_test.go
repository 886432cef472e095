package controller_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
)

// listenerCondition checks the condition typ of the listener named name.
func listenerCondition(name, typ string, want metav1.ConditionStatus, reason string) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			if string(l.Name) != name {
				continue
			}
			c := meta.FindStatusCondition(l.Conditions, typ)
			if c == nil || c.Status != want || c.Reason != reason {
				return fmt.Errorf("listener %s %s: want %s/%s, got %+v", name, typ, want, reason, c)
			}
			return nil
		}
		return fmt.Errorf("no status for listener %s", name)
	}
}

// A certificate Secret or a CA ConfigMap created after its Gateway was reconciled is
// noticed: nothing else changes, yet the listener resolves its references.
func TestGatewayNoticesLateCertificateObjects(t *testing.T) {
	t.Parallel()
	https := gwapiv1.Listener{
		Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443, Hostname: ptr.To[gwapiv1.Hostname]("app.example.com"),
		TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "late-cert"}}},
	}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(https))
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionFalse,
		string(gwapiv1.ListenerReasonInvalidCertificateRef)))

	ca, err := certs.NewCA("test-ca", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueServer("app.example.com", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "late-cert"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: kp.CertPEM, corev1.TLSPrivateKeyKey: kp.KeyPEM},
	})
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.TLS = &gwapiv1.GatewayTLSConfig{Frontend: &gwapiv1.FrontendTLSConfig{Default: gwapiv1.TLSConfig{
			Validation: &gwapiv1.FrontendTLSValidation{CACertificateRefs: []gwapiv1.ObjectReference{{Kind: "ConfigMap", Name: "late-ca"}}},
		}}}
	})
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionFalse,
		"InvalidCACertificateRef"))
	create(t, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "late-ca"},
		Data:       map[string]string{"ca.crt": string(ca.CertPEM)},
	})
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))
}

// gatewayConditionIs checks the Gateway condition typ; a nil want expects it absent.
func gatewayConditionIs(typ string, want *wantCondition) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		if want == nil {
			if c := meta.FindStatusCondition(gw.Status.Conditions, typ); c != nil {
				return fmt.Errorf("condition %s still present: %+v", typ, c)
			}
			return nil
		}
		return checkCondition(gw.Status.Conditions, typ, gw.Generation, *want)
	}
}

// AllowInsecureFallback, by default or on one port, raises the Gateway condition
// InsecureFrontendValidationMode; going back to AllowValidOnly removes it.
func TestGatewayInsecureFrontendValidationMode(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ca, err := certs.NewCA("test-ca", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueServer("app.example.com", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cert"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: kp.CertPEM, corev1.TLSPrivateKeyKey: kp.KeyPEM},
	})
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"}, Data: map[string]string{"ca.crt": string(ca.CertPEM)}})
	https := gwapiv1.Listener{
		Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
		TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "cert"}}},
	}
	validation := func(mode gwapiv1.FrontendValidationModeType) *gwapiv1.FrontendTLSValidation {
		return &gwapiv1.FrontendTLSValidation{CACertificateRefs: []gwapiv1.ObjectReference{{Kind: "ConfigMap", Name: "ca"}}, Mode: mode}
	}
	f := newFixtureIn(t, ns, v1alpha1.CaddyProxyConfigSpec{}, withListeners(https), func(gw *gwapiv1.Gateway) {
		gw.Spec.TLS = &gwapiv1.GatewayTLSConfig{Frontend: &gwapiv1.FrontendTLSConfig{Default: gwapiv1.TLSConfig{
			Validation: validation(gwapiv1.AllowValidOnly)}}}
	})
	typ := string(gwapiv1.GatewayConditionInsecureFrontendValidationMode)
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))
	f.waitGateway(t, gatewayConditionIs(typ, nil))

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.TLS.Frontend.PerPort = []gwapiv1.TLSPortConfig{{Port: 443, TLS: gwapiv1.TLSConfig{Validation: validation(gwapiv1.AllowInsecureFallback)}}}
	})
	f.waitGateway(t, gatewayConditionIs(typ, &wantCondition{metav1.ConditionTrue, string(gwapiv1.GatewayReasonConfigurationChanged),
		"client certificate validation mode AllowInsecureFallback is set in spec.tls.frontend.perPort[0] (port 443): " +
			"HTTPS connections without a valid client certificate are accepted, and authorizing clients is left to the backends"}))

	update(t, f.gateway, func(gw *gwapiv1.Gateway) { gw.Spec.TLS.Frontend.PerPort = nil })
	f.waitGateway(t, gatewayConditionIs(typ, nil))
}

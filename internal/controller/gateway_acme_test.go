package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/status"
)

// A Gateway's automatic listener is told when the EAB Secret its CaddyProxyConfig's
// spec.acme names is missing, and notices the Secret created later: nothing else
// changes, yet the listener resolves it and reports its certificate as pending.
func TestGatewayNoticesLateACMESecret(t *testing.T) {
	t.Parallel()
	listeners := withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
			Hostname: ptr.To[gwapiv1.Hostname]("app.example.com"),
			TLS: &gwapiv1.ListenerTLSConfig{Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{
				"caddygateway.io/automatic-certificates": "true"}}},
	)
	spec := v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{
		Directory: ptr.To("https://ca.internal.example/acme/directory"),
		ExternalAccountBinding: &v1alpha1.ACMEExternalAccountBinding{KeyID: "kid",
			MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "late-eab", Key: "mac"}},
	}}
	f := newFixture(t, spec, listeners)
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionFalse,
		string(gwapiv1.ListenerReasonInvalidCertificateRef)))

	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "late-eab"},
		Data:       map[string][]byte{"mac": []byte("c2VjcmV0LW1hYy1rZXk")},
	})
	f.waitGateway(t, listenerCondition("https", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))
	f.waitGateway(t, listenerCondition("https", status.ListenerConditionAutomaticCertificates, metav1.ConditionUnknown,
		status.ReasonCertificatesPending))
}

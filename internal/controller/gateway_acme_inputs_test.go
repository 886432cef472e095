package controller

import (
	"slices"
	"testing"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// TestACMERefKeys: spec.acme's references are read in the Gateway's namespace, a trusted
// CA from a Secret or a ConfigMap as its kind says, one Secret named twice once.
func TestACMERefKeys(t *testing.T) {
	eab := &v1alpha1.ACMEExternalAccountBinding{KeyID: "k", MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "eab", Key: "mac"}}
	tests := map[string]struct {
		acme                v1alpha1.ACMESpec
		secrets, configMaps []client.ObjectKey
	}{
		"none":                      {},
		"EAB and a ConfigMap CA":    {acme: v1alpha1.ACMESpec{ExternalAccountBinding: eab, TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "ConfigMap", Name: "ca"}}, secrets: []client.ObjectKey{{Namespace: "gw-ns", Name: "eab"}}, configMaps: []client.ObjectKey{{Namespace: "gw-ns", Name: "ca"}}},
		"a Secret CA":               {acme: v1alpha1.ACMESpec{TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "ca", Key: ptr.To("root.pem")}}, secrets: []client.ObjectKey{{Namespace: "gw-ns", Name: "ca"}}},
		"EAB and CA in one Secret":  {acme: v1alpha1.ACMESpec{ExternalAccountBinding: eab, TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "eab"}}, secrets: []client.ObjectKey{{Namespace: "gw-ns", Name: "eab"}}},
		"EAB and CA in two Secrets": {acme: v1alpha1.ACMESpec{ExternalAccountBinding: eab, TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "ca"}}, secrets: []client.ObjectKey{{Namespace: "gw-ns", Name: "eab"}, {Namespace: "gw-ns", Name: "ca"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			secrets, configMaps := acmeRefKeys("gw-ns", &tc.acme)
			if !slices.Equal(secrets, tc.secrets) || !slices.Equal(configMaps, tc.configMaps) {
				t.Errorf("acmeRefKeys = %v, %v; want %v, %v", secrets, configMaps, tc.secrets, tc.configMaps)
			}
		})
	}
}

// TestAsksForAutomatic: the ACME references are read only when a listener of the
// Gateway or of one of its ListenerSets asks for automatic certificates.
func TestAsksForAutomatic(t *testing.T) {
	auto := &gwapiv1.ListenerTLSConfig{Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{"caddygateway.io/automatic-certificates": "true"}}
	off := &gwapiv1.ListenerTLSConfig{Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{"caddygateway.io/automatic-certificates": "false"}}
	gw := func(tls *gwapiv1.ListenerTLSConfig) *gwapiv1.Gateway {
		return &gwapiv1.Gateway{Spec: gwapiv1.GatewaySpec{Listeners: []gwapiv1.Listener{{Name: "http"}, {Name: "https", TLS: tls}}}}
	}
	set := gwapiv1.ListenerSet{Spec: gwapiv1.ListenerSetSpec{Listeners: []gwapiv1.ListenerEntry{{Name: "https", TLS: auto}}}}
	tests := map[string]struct {
		gw   *gwapiv1.Gateway
		sets []gwapiv1.ListenerSet
		want bool
	}{
		"Gateway listener":       {gw: gw(auto), want: true},
		"option false":           {gw: gw(off)},
		"no TLS":                 {gw: gw(nil)},
		"ListenerSet's listener": {gw: gw(off), sets: []gwapiv1.ListenerSet{set}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := asksForAutomatic(tc.gw, tc.sets); got != tc.want {
				t.Errorf("asksForAutomatic = %v, want %v", got, tc.want)
			}
		})
	}
}

package translator

import (
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

// clientCertificateField is the Gateway field naming the certificate the proxy presents
// to TLS backends.
const clientCertificateField = "spec.tls.backend.clientCertificateRef"

// resolveBackendClientCertificate resolves the Gateway's backend client certificate
// into t.clientCert (its name among the Gateway's certificates) and the Gateway's
// ResolvedRefs condition; without the field there is neither. A reference that cannot be
// used leaves TLS backends without a client certificate; the listeners keep serving.
func (t *translation) resolveBackendClientCertificate() {
	if t.gw.Spec.TLS == nil || t.gw.Spec.TLS.Backend == nil || t.gw.Spec.TLS.Backend.ClientCertificateRef == nil {
		return
	}
	name, reason, msg := t.resolveCertificate(*t.gw.Spec.TLS.Backend.ClientCertificateRef)
	gwReason := gwapiv1.GatewayReasonResolvedRefs
	switch reason {
	case "":
		t.clientCert = name
	case gwapiv1.ListenerReasonRefNotPermitted:
		gwReason, msg = gwapiv1.GatewayReasonRefNotPermitted, clientCertificateField+": "+msg
	default:
		gwReason, msg = gwapiv1.GatewayReasonInvalidClientCertificateRef, clientCertificateField+": "+msg
	}
	t.clientCertCond = ptr(status.GatewayResolvedRefs(t.gw.Generation, gwReason, msg))
}

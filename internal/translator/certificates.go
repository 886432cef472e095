package translator

import (
	"crypto/tls"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// resolveCertificates resolves the certificateRefs of an HTTPS listener or a TLS
// listener in mode Terminate into certificate names and flags each ref that cannot be
// used; data is kept in t.certData. No certificateRefs is no problem for a listener
// that obtains its certificate automatically.
func (t *translation) resolveCertificates(l *listener) {
	if len(l.spec.TLS.CertificateRefs) == 0 {
		if l.options.automatic {
			return // nothing to resolve: the certificate is obtained over ACME
		}
		l.badRef(gwapiv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("%s listener has no certificateRefs", l.spec.Protocol))
		return
	}
	for _, ref := range l.spec.TLS.CertificateRefs {
		name, reason, msg := t.resolveCertificateFor(ref, l.ownerKind(), l.namespace(t.gw))
		if reason != "" {
			l.badRef(reason, msg)
			continue
		}
		l.certs = append(l.certs, name)
	}
}

// resolveCertificate resolves a certificateRef of the Gateway.
func (t *translation) resolveCertificate(ref gwapiv1.SecretObjectReference) (string, gwapiv1.ListenerConditionReason, string) {
	return t.resolveCertificateFor(ref, "Gateway", t.gw.Namespace)
}

// resolveCertificateFor resolves a certificateRef of an object of kind fromKind (Gateway
// or ListenerSet) in namespace fromNS, to which a ref without a namespace is relative
// and from which a ReferenceGrant must permit a ref to another namespace.
func (t *translation) resolveCertificateFor(ref gwapiv1.SecretObjectReference, fromKind, fromNS string) (string, gwapiv1.ListenerConditionReason, string) {
	ns := fromNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	full := ns + "/" + string(ref.Name)
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
		return "", gwapiv1.ListenerReasonInvalidCertificateRef,
			fmt.Sprintf("certificateRef %s: only core Secrets are supported", full)
	}
	if !t.permitted(refGrant{fromGroup: gatewayGroup, fromKind: fromKind, fromNS: fromNS,
		toGroup: "", toKind: "Secret", toNS: ns, name: string(ref.Name)}) {
		return "", gwapiv1.ListenerReasonRefNotPermitted,
			fmt.Sprintf("certificateRef to Secret %s is not permitted by any ReferenceGrant", full)
	}
	s, ok := t.secrets[nsName{ns, string(ref.Name)}]
	if !ok {
		return "", gwapiv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("Secret %s does not exist", full)
	}
	cert, key := secretValue(s, corev1.TLSCertKey), secretValue(s, corev1.TLSPrivateKeyKey)
	if cert == "" || key == "" {
		return "", gwapiv1.ListenerReasonInvalidCertificateRef,
			fmt.Sprintf("Secret %s must hold %s and %s", full, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
		return "", gwapiv1.ListenerReasonInvalidCertificateRef,
			fmt.Sprintf("Secret %s does not hold a valid certificate and key: %v", full, err)
	}
	t.certData[full] = [2]string{cert, key}
	return full, "", ""
}

// secretValue reads a key from Data, falling back to StringData (test fixtures).
func secretValue(s *corev1.Secret, key string) string {
	if v, ok := s.Data[key]; ok {
		return string(v)
	}
	return s.StringData[key]
}

package translator

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// caCertKey is the ConfigMap key holding a CA bundle (Gateway API core support).
const caCertKey = "ca.crt"

// frontendValidation is the client certificate validation that applies to HTTPS
// listeners on port: the perPort entry for the port (which may turn validation off),
// else the default; nil means none.
func (t *translation) frontendValidation(port gwapiv1.PortNumber) *gwapiv1.FrontendTLSValidation {
	if t.gw.Spec.TLS == nil || t.gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := t.gw.Spec.TLS.Frontend
	for i := range f.PerPort {
		if f.PerPort[i].Port == port {
			return f.PerPort[i].TLS.Validation
		}
	}
	return f.Default.Validation
}

// resolveClientValidation resolves the caCertificateRefs that apply to an HTTPS
// listener. Each unusable ref sets ResolvedRefs=False; when none is usable the
// listener is not accepted (NoValidCACertificate), so it never serves without the
// validation its owner asked for.
func (t *translation) resolveClientValidation(l *listener) {
	v := t.frontendValidation(l.spec.Port)
	if v == nil {
		return
	}
	cv := &ir.ClientValidation{Optional: v.Mode == gwapiv1.AllowInsecureFallback}
	var lastMsg string
	for _, ref := range v.CACertificateRefs {
		ders, reason, msg := t.resolveCACertificate(ref)
		if reason != "" {
			l.badRef(reason, msg)
			lastMsg = msg
			continue
		}
		cv.TrustedCAs = append(cv.TrustedCAs, ders...)
	}
	if len(cv.TrustedCAs) == 0 {
		l.reject(gwapiv1.ListenerReasonNoValidCACertificate,
			"no caCertificateRef of the frontend TLS validation is usable: "+lastMsg)
		return
	}
	l.validation = cv
}

// resolveCACertificate returns the base64 DER certificates of one caCertificateRef,
// or the listener condition reason and message saying why it cannot be used.
func (t *translation) resolveCACertificate(ref gwapiv1.ObjectReference) ([]string, gwapiv1.ListenerConditionReason, string) {
	ns := t.gw.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	full := ns + "/" + string(ref.Name)
	if ref.Group == certificatesGroup && ref.Kind == "ClusterTrustBundle" {
		return t.frontendClusterTrustBundle(string(ref.Name))
	}
	if ref.Group != "" || ref.Kind != "ConfigMap" {
		return nil, gwapiv1.ListenerReasonInvalidCACertificateKind,
			fmt.Sprintf("caCertificateRef %s: kind %q of group %q is not supported; use a core ConfigMap or a %s ClusterTrustBundle",
				full, ref.Kind, ref.Group, certificatesGroup)
	}
	if !t.permitted(refGrant{fromGroup: gatewayGroup, fromKind: "Gateway", fromNS: t.gw.Namespace,
		toGroup: "", toKind: "ConfigMap", toNS: ns, name: string(ref.Name)}) {
		return nil, gwapiv1.ListenerReasonRefNotPermitted,
			fmt.Sprintf("caCertificateRef to ConfigMap %s is not permitted by any ReferenceGrant", full)
	}
	data, found, ok := t.configMapValue(ns, string(ref.Name), caCertKey)
	switch {
	case !found:
		return nil, gwapiv1.ListenerReasonInvalidCACertificateRef, fmt.Sprintf("ConfigMap %s does not exist", full)
	case !ok:
		return nil, gwapiv1.ListenerReasonInvalidCACertificateRef, fmt.Sprintf("ConfigMap %s has no key %s", full, caCertKey)
	}
	ders, err := pemCertificates(data)
	if err != nil {
		return nil, gwapiv1.ListenerReasonInvalidCACertificateRef,
			fmt.Sprintf("ConfigMap %s key %s: %v", full, caCertKey, err)
	}
	return ders, "", ""
}

// frontendClusterTrustBundle returns the base64 DER certificates of the
// ClusterTrustBundle name (cluster-scoped: no ReferenceGrant is needed), or the listener
// condition reason and message saying why it cannot be used.
func (t *translation) frontendClusterTrustBundle(name string) ([]string, gwapiv1.ListenerConditionReason, string) {
	data, problem := t.clusterTrustBundle(name)
	if problem != "" {
		return nil, gwapiv1.ListenerReasonInvalidCACertificateRef, "caCertificateRef " + problem
	}
	ders, err := pemCertificates(data)
	if err != nil {
		return nil, gwapiv1.ListenerReasonInvalidCACertificateRef,
			fmt.Sprintf("caCertificateRef ClusterTrustBundle %s spec.trustBundle: %v", name, err)
	}
	return ders, "", ""
}

// configMapValue reads key from the ConfigMap ns/name (Data, then BinaryData);
// found says the ConfigMap exists, ok that it has the key.
func (t *translation) configMapValue(ns, name, key string) (value []byte, found, ok bool) {
	for i := range t.in.ConfigMaps {
		cm := &t.in.ConfigMaps[i]
		if cm.Namespace != ns || cm.Name != name {
			continue
		}
		if v, ok := cm.Data[key]; ok {
			return []byte(v), true, true
		}
		v, ok := cm.BinaryData[key]
		return v, true, ok
	}
	return nil, false, false
}

// pemCertificates parses every CERTIFICATE block of a PEM bundle into base64 DER;
// a bundle without one, or with one that does not parse, is an error.
func pemCertificates(data []byte) ([]string, error) {
	ders, err := parseCertificates(data)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ders))
	for i, d := range ders {
		out[i] = base64.StdEncoding.EncodeToString(d)
	}
	return out, nil
}

// parseCertificates returns the DER of every CERTIFICATE block of a PEM bundle; a bundle
// without one, or with one that does not parse, is an error.
func parseCertificates(data []byte) ([][]byte, error) {
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %w", len(out)+1, err)
		}
		out = append(out, b.Bytes)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block found")
	}
	return out, nil
}

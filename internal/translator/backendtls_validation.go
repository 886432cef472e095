package translator

import (
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// certificatesGroup is the API group of ClusterTrustBundles.
const certificatesGroup = "certificates.k8s.io"

// caCache holds the parsed CA bundles of one translation by source ("ConfigMap ns/name"
// or "ClusterTrustBundle name"): many policies name the same bundle.
type caCache map[string]caBundle

// caBundle is a parsed CA bundle: its certificates as PEM, or why it cannot be used.
type caBundle struct {
	pems   []string
	reason gwapiv1.PolicyConditionReason
	msg    string
}

// resolvePolicy resolves what p makes of the backends it applies to. Its CA references
// decide ResolvedRefs; a reference that cannot be used adds no CA (connections whose
// chain ends there fail), and a policy without any usable CA is not accepted
// (NoValidCACertificate). A policy asking for what this implementation cannot do is not
// accepted either (Invalid), with a message naming the field.
func (t *translation) resolvePolicy(p *gwapiv1.BackendTLSPolicy, cas caCache) *policyState {
	st := &policyState{p: p, accepted: gwapiv1.PolicyReasonAccepted, refs: gwapiv1.BackendTLSPolicyReasonResolvedRefs}
	v := &p.Spec.Validation
	tls := &ir.BackendTLS{ServerName: string(v.Hostname), ClientCertificate: t.clientCert}
	var bad []string
	for i, ref := range v.CACertificateRefs {
		b := t.policyCA(p.Namespace, ref, cas)
		if b.reason != "" {
			if st.refs == gwapiv1.BackendTLSPolicyReasonResolvedRefs {
				st.refs = b.reason
			}
			bad = append(bad, fmt.Sprintf("validation.caCertificateRefs[%d]: %s", i, b.msg))
			continue
		}
		for _, c := range b.pems {
			if !slices.Contains(tls.TrustedCAs, c) {
				tls.TrustedCAs = append(tls.TrustedCAs, c)
			}
		}
	}
	st.refsMsg = joinProblems(bad)
	if v.WellKnownCACertificates != nil && *v.WellKnownCACertificates == gwapiv1.WellKnownCACertificatesSystem {
		tls.SystemCAs = true
	}
	sans, problems := subjectAltNames(v.SubjectAltNames)
	tls.SubjectAltNames = sans
	problems = append(problems, policyProblems(p)...)
	switch {
	case len(problems) > 0:
		st.accepted, st.acceptedMsg = gwapiv1.PolicyReasonInvalid, joinProblems(problems)
	case len(tls.TrustedCAs) == 0 && !tls.SystemCAs:
		st.accepted, st.acceptedMsg = gwapiv1.BackendTLSPolicyReasonNoValidCACertificate,
			"no caCertificateRef is usable: "+st.refsMsg
	default:
		st.tls = tls
	}
	return st
}

// policyProblems says what of p's validation and options this implementation cannot
// honour, each naming its field.
func policyProblems(p *gwapiv1.BackendTLSPolicy) []string {
	v := &p.Spec.Validation
	var out []string
	if h := string(v.Hostname); h == "" {
		out = append(out, "validation.hostname is required")
	} else if errs := validation.IsDNS1123Subdomain(h); len(errs) > 0 {
		out = append(out, fmt.Sprintf("validation.hostname %q is not a DNS name: %s", h, strings.Join(errs, ", ")))
	}
	wellKnown := v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != ""
	switch {
	case wellKnown && len(v.CACertificateRefs) > 0:
		out = append(out, "validation: only one of caCertificateRefs and wellKnownCACertificates may be set")
	case !wellKnown && len(v.CACertificateRefs) == 0:
		out = append(out, "validation: one of caCertificateRefs and wellKnownCACertificates must be set")
	case wellKnown && *v.WellKnownCACertificates != gwapiv1.WellKnownCACertificatesSystem:
		out = append(out, fmt.Sprintf("validation.wellKnownCACertificates %q is not supported; supported: System",
			*v.WellKnownCACertificates))
	}
	if len(p.Spec.Options) > 0 {
		keys := make([]string, 0, len(p.Spec.Options))
		for k := range p.Spec.Options {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		out = append(out, fmt.Sprintf("options %s are not supported; this implementation supports none",
			strings.Join(keys, ", ")))
	}
	return out
}

// subjectAltNames converts validation.subjectAltNames, with the problems of entries
// that cannot be checked.
func subjectAltNames(in []gwapiv1.SubjectAltName) ([]ir.SubjectAltName, []string) {
	var out []ir.SubjectAltName
	var bad []string
	for i, s := range in {
		at := fmt.Sprintf("validation.subjectAltNames[%d]", i)
		switch s.Type {
		case gwapiv1.HostnameSubjectAltNameType:
			h := string(s.Hostname)
			if h == "" {
				bad = append(bad, at+".hostname is required for type Hostname")
				continue
			}
			if errs := validation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*.")); len(errs) > 0 {
				bad = append(bad, fmt.Sprintf("%s.hostname %q is not a DNS name or *.suffix wildcard", at, h))
				continue
			}
			out = append(out, ir.SubjectAltName{Hostname: h})
		case gwapiv1.URISubjectAltNameType:
			u := string(s.URI)
			if u == "" {
				bad = append(bad, at+".uri is required for type URI")
				continue
			}
			if parsed, err := url.Parse(u); err != nil || parsed.Scheme == "" || parsed.Opaque == "" && parsed.Host == "" && parsed.Path == "" ||
				strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				bad = append(bad, fmt.Sprintf("%s.uri %q is not an absolute URI", at, u))
				continue
			}
			out = append(out, ir.SubjectAltName{URI: u})
		default:
			bad = append(bad, fmt.Sprintf("%s.type %q is not supported; supported: Hostname, URI", at, s.Type))
		}
	}
	return out, bad
}

// policyCA reads the CA bundle one caCertificateRef of a policy in namespace ns names.
func (t *translation) policyCA(ns string, ref gwapiv1.LocalObjectReference, cas caCache) caBundle {
	var key string
	switch {
	case ref.Group == "" && ref.Kind == "ConfigMap":
		key = "ConfigMap " + ns + "/" + string(ref.Name)
	case ref.Group == certificatesGroup && ref.Kind == "ClusterTrustBundle":
		key = "ClusterTrustBundle " + string(ref.Name)
	default:
		return caBundle{reason: gwapiv1.BackendTLSPolicyReasonInvalidKind,
			msg: fmt.Sprintf("kind %q of group %q (%s) is not supported; use a core ConfigMap (key %s) or a %s ClusterTrustBundle",
				ref.Kind, ref.Group, ref.Name, caCertKey, certificatesGroup)}
	}
	if b, ok := cas[key]; ok {
		return b
	}
	var b caBundle
	if ref.Kind == "ConfigMap" {
		b = t.configMapCA(ns, string(ref.Name))
	} else {
		b = t.clusterTrustBundleCA(string(ref.Name))
	}
	cas[key] = b
	return b
}

func (t *translation) configMapCA(ns, name string) caBundle {
	full := ns + "/" + name
	data, found, ok := t.configMapValue(ns, name, caCertKey)
	switch {
	case !found:
		return invalidCA("ConfigMap %s does not exist", full)
	case !ok:
		return invalidCA("ConfigMap %s has no key %s", full, caCertKey)
	}
	pems, err := pemCertificateBlocks(data)
	if err != nil {
		return invalidCA("ConfigMap %s key %s: %v", full, caCertKey, err)
	}
	return caBundle{pems: pems}
}

func (t *translation) clusterTrustBundleCA(name string) caBundle {
	data, problem := t.clusterTrustBundle(name)
	if problem != "" {
		return invalidCA("%s", problem)
	}
	pems, err := pemCertificateBlocks(data)
	if err != nil {
		return invalidCA("ClusterTrustBundle %s spec.trustBundle: %v", name, err)
	}
	return caBundle{pems: pems}
}

// clusterTrustBundle is the spec.trustBundle of the ClusterTrustBundle name, or why
// there is none.
func (t *translation) clusterTrustBundle(name string) (data []byte, problem string) {
	if !t.in.ClusterTrustBundlesServed {
		return nil, fmt.Sprintf("ClusterTrustBundle %s: the cluster does not serve ClusterTrustBundles (%s/v1beta1); "+
			"enable that API or use a ConfigMap", name, certificatesGroup)
	}
	for i := range t.in.ClusterTrustBundles {
		if b := &t.in.ClusterTrustBundles[i]; b.Name == name {
			return []byte(b.Spec.TrustBundle), ""
		}
	}
	return nil, fmt.Sprintf("ClusterTrustBundle %s does not exist", name)
}

func invalidCA(format string, args ...any) caBundle {
	return caBundle{reason: gwapiv1.BackendTLSPolicyReasonInvalidCACertificateRef, msg: fmt.Sprintf(format, args...)}
}

// pemCertificateBlocks parses every CERTIFICATE block of a PEM bundle into one PEM
// certificate each; a bundle without one, or with one that does not parse, is an error.
func pemCertificateBlocks(data []byte) ([]string, error) {
	ders, err := parseCertificates(data)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ders))
	for i, d := range ders {
		out[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d}))
	}
	return out, nil
}

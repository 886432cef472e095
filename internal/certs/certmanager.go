package certs

import (
	"maps"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/names"
)

// cert-manager API coordinates. The objects are rendered as unstructured so that the
// operator does not depend on cert-manager's Go modules.
const (
	CertManagerGroup      = "cert-manager.io"
	CertManagerAPIVersion = CertManagerGroup + "/v1"
	KindIssuer            = "Issuer"
	KindClusterIssuer     = "ClusterIssuer"
	KindCertificate       = "Certificate"
)

// Names are the per-Gateway object names of the admin channel. Certificates and the
// Secrets they fill share a name.
type Names struct {
	// SelfSignedIssuer is the Issuer that signs the CA (default chain only).
	SelfSignedIssuer string
	// CA names the CA Certificate, its Secret and the CA Issuer (default chain only).
	CA string
	// Server names the admin-proxy's Certificate and Secret (mounted into the pod).
	Server string
	// Client names the operator's client Certificate and Secret.
	Client string
}

// NamesFor returns the object names for a Gateway.
func NamesFor(gateway string) Names {
	return Names{
		SelfSignedIssuer: names.Child(gateway, "-caddy-admin-selfsigned", names.MaxSubdomain),
		CA:               names.Child(gateway, "-caddy-admin-ca", names.MaxSubdomain),
		Server:           names.Child(gateway, "-caddy-admin-server", names.MaxSubdomain),
		Client:           names.Child(gateway, "-caddy-admin-client", names.MaxSubdomain),
	}
}

// CertManagerInput is everything the cert-manager objects of one Gateway depend on.
type CertManagerInput struct {
	// Gateway and Namespace identify the Gateway; the objects live in its namespace.
	Gateway, Namespace string
	// Owner, when set, becomes an owner reference of every object, so that they go with
	// the Gateway; never a controller reference (see RenderCertManager).
	Owner *metav1.OwnerReference
	// Labels and Annotations go onto every object (spec.infrastructure plus the
	// operator's own labels).
	Labels, Annotations map[string]string
	// TLS is the merged controlPlane.tls; nil means defaults.
	TLS *v1alpha1.AdminTLSSpec
}

// RenderCertManager returns, in a fixed order, the cert-manager objects that issue a
// Gateway's admin certificates. Default chain: self-signed Issuer → CA Certificate → CA
// Issuer → server and client Certificates. With controlPlane.tls.issuerRef only the
// server and client Certificates, signed by that issuer; it must put the CA into ca.crt
// (the CA and Vault issuers do) for the admin-proxy and the operator to trust each other.
//
// The objects are owned by the Gateway but not controlled by it: cert-manager's
// gateway-shim, which serves Gateways annotated cert-manager.io/issuer or
// cert-manager.io/cluster-issuer, deletes every Certificate the Gateway controls that no
// listener's certificateRefs name. A plain owner reference still lets the garbage
// collector remove them with the Gateway.
func RenderCertManager(in CertManagerInput) []*unstructured.Unstructured {
	n := NamesFor(in.Gateway)
	duration, renewBefore := DefaultDuration, DefaultRenewBefore
	var issuer map[string]any
	if t := in.TLS; t != nil {
		if t.Duration != nil {
			duration = t.Duration.Duration
		}
		if t.RenewBefore != nil {
			renewBefore = t.RenewBefore.Duration
		}
		if r := t.IssuerRef; r != nil {
			group := r.Group
			if group == "" {
				group = CertManagerGroup
			}
			issuer = map[string]any{"group": group, "kind": r.Kind, "name": r.Name}
		}
	}
	var objs []*unstructured.Unstructured
	if issuer == nil {
		issuer = map[string]any{"group": CertManagerGroup, "kind": KindIssuer, "name": n.CA}
		objs = append(objs,
			in.object(KindIssuer, n.SelfSignedIssuer, map[string]any{"selfSigned": map[string]any{}}),
			in.object(KindCertificate, n.CA, in.certificateSpec(certificate{
				secretName: n.CA, commonName: names.Child("caddy-admin-ca."+in.Gateway+"."+in.Namespace, "", maxCommonName),
				isCA: true, duration: CADuration, renewBefore: CARenewBefore,
				usages: []any{"cert sign", "crl sign", "digital signature"},
				issuer: map[string]any{"group": CertManagerGroup, "kind": KindIssuer, "name": n.SelfSignedIssuer},
			})),
			in.object(KindIssuer, n.CA, map[string]any{"ca": map[string]any{"secretName": n.CA}}),
		)
	}
	objs = append(objs,
		in.object(KindCertificate, n.Server, in.certificateSpec(certificate{
			secretName: n.Server,
			dnsNames:   []any{ServerName(in.Gateway, in.Namespace)},
			duration:   duration, renewBefore: renewBefore,
			usages: []any{"digital signature", "server auth"}, issuer: issuer,
		})),
		in.object(KindCertificate, n.Client, in.certificateSpec(certificate{
			secretName: n.Client, commonName: OperatorCommonName, uris: []any{OperatorURI},
			duration: duration, renewBefore: renewBefore,
			usages: []any{"digital signature", "client auth"}, issuer: issuer,
		})),
	)
	return objs
}

type certificate struct {
	secretName, commonName string
	dnsNames, uris, usages []any
	isCA                   bool
	duration, renewBefore  time.Duration
	issuer                 map[string]any
}

// maxCommonName is the x509 (and cert-manager) limit of a subject common name.
const maxCommonName = 64

func (in CertManagerInput) certificateSpec(c certificate) map[string]any {
	spec := map[string]any{
		"secretName":  c.secretName,
		"duration":    c.duration.String(),
		"renewBefore": c.renewBefore.String(),
		"usages":      c.usages,
		"issuerRef":   c.issuer,
		// A new key on every renewal; ECDSA P-256 like the built-in CA.
		"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256), "rotationPolicy": "Always"},
	}
	if c.commonName != "" {
		spec["commonName"] = c.commonName
	}
	if c.isCA {
		spec["isCA"] = true
	}
	// The Secrets carry the Gateway's infrastructure labels and annotations too.
	tmpl := map[string]any{}
	if len(in.Labels) > 0 {
		tmpl["labels"] = toAny(in.Labels)
	}
	if len(in.Annotations) > 0 {
		tmpl["annotations"] = toAny(in.Annotations)
	}
	if len(tmpl) > 0 {
		spec["secretTemplate"] = tmpl
	}
	if len(c.dnsNames) > 0 {
		spec["dnsNames"] = c.dnsNames
	}
	if len(c.uris) > 0 {
		spec["uris"] = c.uris
	}
	return spec
}

func (in CertManagerInput) object(kind, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(CertManagerAPIVersion)
	u.SetKind(kind)
	u.SetName(name)
	u.SetNamespace(in.Namespace)
	if len(in.Labels) > 0 {
		u.SetLabels(maps.Clone(in.Labels))
	}
	if len(in.Annotations) > 0 {
		u.SetAnnotations(maps.Clone(in.Annotations))
	}
	if in.Owner != nil {
		u.SetOwnerReferences([]metav1.OwnerReference{*in.Owner})
	}
	return u
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

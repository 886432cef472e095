package certs

import (
	"maps"
	"time"

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

// Names are the per-Gateway object names of the admin channel in the operator's
// namespace. Certificates and the Secrets they fill share a name. Each starts with
// "<gateway namespace>.<gateway name>": a namespace holds no '.', so the names of two
// Gateways never collide (names.Child keeps them distinct when it shortens).
type Names struct {
	// SelfSignedIssuer is the Issuer that signs the CA (default chain only).
	SelfSignedIssuer string
	// CA names the CA Certificate, its Secret and the CA Issuer (default chain and
	// built-in CA).
	CA string
	// Server names the admin-proxy's Certificate and the Secret it fills, the source of
	// the copy the pods mount (ServerSecret).
	Server string
	// Client names the operator's client Certificate and Secret.
	Client string
	// Trust names the Secret holding the trust bundle (TrustBundle) in ca.crt.
	Trust string
}

// NamesFor returns the names, in the operator's namespace, of the admin objects of the
// Gateway namespace/gateway.
func NamesFor(namespace, gateway string) Names {
	base := namespace + "." + gateway
	return Names{
		SelfSignedIssuer: names.Child(base, "-caddy-admin-selfsigned", names.MaxSubdomain),
		CA:               names.Child(base, "-caddy-admin-ca", names.MaxSubdomain),
		Server:           names.Child(base, "-caddy-admin-server", names.MaxSubdomain),
		Client:           names.Child(base, "-caddy-admin-client", names.MaxSubdomain),
		Trust:            names.Child(base, "-caddy-admin-trust", names.MaxSubdomain),
	}
}

// ServerSecret is the name of the Secret in the Gateway's namespace that the Caddy pods
// mount: the server certificate, its key and the trust bundle, copied by the operator.
func ServerSecret(gateway string) string {
	return names.Child(gateway, "-caddy-admin-server", names.MaxSubdomain)
}

// Labels and annotation that tie an object in the operator's namespace to its Gateway,
// which cannot own it across namespaces.
const (
	// LabelGatewayUID holds the Gateway's UID: the objects of one Gateway are listed by it.
	LabelGatewayUID = "caddygateway.io/gateway-uid"
	// LabelGatewayNamespace holds the Gateway's namespace.
	LabelGatewayNamespace = "caddygateway.io/gateway-namespace"
	// AnnotationGateway holds "<namespace>/<name>" of the Gateway (a name may be too long
	// for a label value): watches map the object to it, the sweep checks it still exists.
	AnnotationGateway = "caddygateway.io/gateway"
)

// CertManagerInput is everything the cert-manager objects of one Gateway depend on.
type CertManagerInput struct {
	// Gateway and Namespace identify the Gateway.
	Gateway, Namespace string
	// OperatorNamespace is where the objects live.
	OperatorNamespace string
	// Labels and Annotations go onto every object and the Secrets cert-manager fills
	// (spec.infrastructure plus the operator's own, LabelGatewayUID and AnnotationGateway
	// among them).
	Labels, Annotations map[string]string
	// TLS is the merged controlPlane.tls; nil means defaults.
	TLS *v1alpha1.AdminTLSSpec
}

// RenderCertManager returns, in a fixed order, the cert-manager objects that issue a
// Gateway's admin certificates, all in the operator's namespace. Default chain:
// self-signed Issuer → CA Certificate → CA Issuer → server and client Certificates. With
// controlPlane.tls.issuerRef only the server and client Certificates, signed by that
// issuer (a ClusterIssuer, or an Issuer in the operator's namespace); it must put the CA
// into ca.crt (the CA and Vault issuers do) for the admin-proxy and the operator to trust
// each other.
//
// The objects have no owner reference (the Gateway is in another namespace): the
// operator finds them by LabelGatewayUID and AnnotationGateway and deletes them with the
// Gateway. Being outside the Gateway's namespace, cert-manager's gateway-shim never
// considers them.
func RenderCertManager(in CertManagerInput) []*unstructured.Unstructured {
	n := NamesFor(in.Namespace, in.Gateway)
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
			secretName: n.Client, commonName: OperatorCommonName, uris: []any{OperatorIdentity(in.Namespace, in.Gateway)},
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
	u.SetNamespace(in.OperatorNamespace)
	if len(in.Labels) > 0 {
		u.SetLabels(maps.Clone(in.Labels))
	}
	if len(in.Annotations) > 0 {
		u.SetAnnotations(maps.Clone(in.Annotations))
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

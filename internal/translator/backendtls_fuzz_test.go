package translator_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// FuzzBackendTLSPolicy translates a route whose backend and mirror use a Service port
// with a BackendTLSPolicy built from fuzz input, and requires that traffic fails closed:
// a backend or mirror of a port the policy targets is either invalid or speaks TLS with
// a server name and something to verify against; the policy gets exactly one ancestor
// entry, and Accepted=True whenever its backends are served.
func FuzzBackendTLSPolicy(f *testing.F) {
	f.Add(uint8(0), "abc.example.com", fixture.CertPEM, "ConfigMap", "", "Hostname", "abc.example.com", "", "")
	f.Add(uint8(1), "abc.example.com", "garbage", "ConfigMap", "", "URI", "spiffe://x/y", "https", "")
	f.Add(uint8(2), "", fixture.CertPEM, "Secret", "System", "Other", "", "kubernetes.io/h2c", "example.com/k")
	f.Add(uint8(1), "abc.example.com", "", "ClusterTrustBundle", "System", "URI", "", "kubernetes.io/wss", "")
	f.Fuzz(func(t *testing.T, shape uint8, hostname, caData, caKind, wellKnown, sanType, san, appProtocol, option string) {
		in := fuzzPolicyInput(shape, hostname, caData, caKind, wellKnown, sanType, san, appProtocol, option)
		out := translator.Translate(in)
		targeted := shape%3 != 2
		var backends []ir.Backend
		var mirrors []ir.Mirror
		for _, srv := range out.IR.HTTP {
			for _, l := range srv.Listeners {
				for _, h := range l.Hosts {
					for _, r := range h.Routes {
						backends = append(backends, r.Action.Backends...)
						mirrors = append(mirrors, r.Action.Mirrors...)
					}
				}
			}
		}
		served := false
		for _, b := range backends {
			if b.Invalid {
				continue
			}
			served = true
			if targeted {
				requireVerified(t, "backend", b.TLS)
			} else if b.TLS != nil {
				t.Fatalf("a backend of a port no policy targets speaks TLS: %+v", b.TLS)
			}
		}
		for _, m := range mirrors {
			if targeted {
				requireVerified(t, "mirror", m.TLS)
			}
		}
		if !targeted {
			if len(out.Policies) != 0 {
				t.Fatalf("a policy for another port has an ancestor entry: %+v", out.Policies)
			}
			return
		}
		if len(out.Policies) != 1 {
			t.Fatalf("%d ancestor entries, want 1", len(out.Policies))
		}
		// A backend may be refused for a reason of its own (its appProtocol) under an
		// accepted policy, but never served under a policy that is not.
		accepted := out.Policies[0].Ancestor.Conditions[0]
		if accepted.Type != "Accepted" || served && accepted.Status != metav1.ConditionTrue {
			t.Fatalf("policy condition %+v while the backend is served: %v", accepted, served)
		}
	})
}

func requireVerified(t *testing.T, what string, tls *ir.BackendTLS) {
	t.Helper()
	if tls == nil || tls.ServerName == "" || len(tls.TrustedCAs) == 0 && !tls.SystemCAs {
		t.Fatalf("a %s of a port with a policy is served without verified TLS: %+v", what, tls)
	}
}

// fuzzPolicyInput is a Gateway with one route to Service s port 443 (named https), also
// mirrored there, and one policy; shape%3 says what the policy targets: the Service, its
// port https, or another port.
func fuzzPolicyInput(shape uint8, hostname, caData, caKind, wellKnown, sanType, san, appProtocol, option string) translator.Input {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "default", Generation: 1}
	}
	svcPort := corev1.ServicePort{Name: "https", Port: 443}
	if appProtocol != "" {
		svcPort.AppProtocol = &appProtocol
	}
	target := gwapiv1.LocalPolicyTargetReferenceWithSectionName{
		LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{Kind: "Service", Name: "s"}}
	switch shape % 3 {
	case 1:
		target.SectionName = ptr(gwapiv1.SectionName("https"))
	case 2:
		target.SectionName = ptr(gwapiv1.SectionName("other"))
	}
	group := gwapiv1.Group("")
	if caKind == "ClusterTrustBundle" {
		group = "certificates.k8s.io"
	}
	v := gwapiv1.BackendTLSPolicyValidation{Hostname: gwapiv1.PreciseHostname(hostname)}
	if shape&4 == 0 || caData != "" {
		v.CACertificateRefs = []gwapiv1.LocalObjectReference{{Group: group, Kind: gwapiv1.Kind(caKind), Name: "ca"}}
	}
	if wellKnown != "" {
		v.WellKnownCACertificates = ptr(gwapiv1.WellKnownCACertificatesType(wellKnown))
	}
	if sanType != "" {
		v.SubjectAltNames = []gwapiv1.SubjectAltName{{Type: gwapiv1.SubjectAltNameType(sanType), Hostname: gwapiv1.Hostname(san), URI: gwapiv1.AbsoluteURI(san)}}
	}
	policy := gwapiv1.BackendTLSPolicy{ObjectMeta: meta("p"),
		Spec: gwapiv1.BackendTLSPolicySpec{TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{target}, Validation: v}}
	if option != "" {
		policy.Spec.Options = map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{gwapiv1.AnnotationKey(option): "x"}
	}
	port := gwapiv1.PortNumber(443)
	ref := gwapiv1.BackendObjectReference{Name: "s", Port: &port}
	return translator.Input{
		ControllerName:            fixture.ControllerName,
		ClusterTrustBundlesServed: shape&8 == 0,
		Gateway: &gwapiv1.Gateway{ObjectMeta: meta("gw"), Spec: gwapiv1.GatewaySpec{GatewayClassName: "caddy",
			Listeners: []gwapiv1.Listener{{Name: "http", Port: 80, Protocol: gwapiv1.HTTPProtocolType}}}},
		Services: []corev1.Service{{ObjectMeta: meta("s"),
			Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1", Ports: []corev1.ServicePort{svcPort}}}},
		ConfigMaps:         []corev1.ConfigMap{{ObjectMeta: meta("ca"), Data: map[string]string{"ca.crt": caData}}},
		BackendTLSPolicies: []gwapiv1.BackendTLSPolicy{policy},
		HTTPRoutes: []gwapiv1.HTTPRoute{{ObjectMeta: meta("r"), Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw"}}},
			Rules: []gwapiv1.HTTPRouteRule{{
				Filters: []gwapiv1.HTTPRouteFilter{{Type: gwapiv1.HTTPRouteFilterRequestMirror,
					RequestMirror: &gwapiv1.HTTPRequestMirrorFilter{BackendRef: ref}}},
				BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: ref}}},
			}},
		}}},
	}
}

func ptr[T any](v T) *T { return &v }

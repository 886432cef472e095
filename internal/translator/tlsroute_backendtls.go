package translator

import (
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// tlsTerminateBackends are the backendRules of TLSRoutes that may attach to a TLS
// listener in mode Terminate: as tlsBackends, but the decrypted bytes are re-encrypted
// to a backend whose Service port a BackendTLSPolicy targets, verified against the
// policy's CAs and hostname (caddy-l4's upstream TLS).
var tlsTerminateBackends = backendRules{kind: kindTLSRoute, protocol: ir.ProtocolTCP, anyAppProtocol: true,
	unavailable: tcpUnavailable, backendTLS: true, tlsProblem: layer4TLSProblem}

// layer4TLSProblem says what of tls caddy-l4's proxy cannot do for a TLSRoute backend:
// verify subject alt names instead of the server name, or present a client certificate.
func layer4TLSProblem(tls *ir.BackendTLS) string {
	switch {
	case len(tls.SubjectAltNames) > 0:
		return "validation.subjectAltNames cannot be verified on TLSRoute backends"
	case tls.ClientCertificate != "":
		return "the Gateway's " + clientCertificateField + " cannot be presented to TLSRoute backends"
	}
	return ""
}

// mayTerminate reports whether r may attach to a TLS listener of the Gateway in mode
// Terminate, whose routes' backends BackendTLSPolicies apply to: a parentRef of r
// selects the listener (of the Gateway or of a ListenerSet), which allows r and shares a hostname with it. Passthrough
// listeners proxy the client's own TLS: policies do not apply there (withoutTLS).
// Routes are checked beside each other: this reads the listeners and changes nothing.
func (t *translation) mayTerminate(r *gwapiv1.TLSRoute) bool {
	for _, ref := range r.Spec.ParentRefs {
		set, ok := t.parentScope(r.Namespace, ref)
		if !ok {
			continue
		}
		for _, l := range t.listeners {
			if l.set == set && l.terminatesTLSRoutes() && (ref.SectionName == nil || *ref.SectionName == l.spec.Name) &&
				(ref.Port == nil || *ref.Port == l.spec.Port) && t.allowsRoute(l, kindTLSRoute, r.Namespace) &&
				len(effectiveHostnames(l.hostname, hostStrings(r.Spec.Hostnames))) > 0 {
				return true
			}
		}
	}
	return false
}

// withoutTLS is backends with no TLS, for a route served on a passthrough listener as
// well as on a terminating one; backends itself when none has TLS.
func withoutTLS(backends []ir.Backend) []ir.Backend {
	if !slices.ContainsFunc(backends, func(b ir.Backend) bool { return b.TLS != nil }) {
		return backends
	}
	out := slices.Clone(backends)
	for i := range out {
		out[i].TLS = nil
	}
	return out
}

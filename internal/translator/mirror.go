package translator

import (
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// convertMirror converts one RequestMirror filter of a route whose backends follow
// kind; ok is false when nothing is to be mirrored (bad configuration, unusable
// backend, 0%). Copies speak the kind's protocol, or the backend's from its
// appProtocol when the kind has none (HTTP/1.1 or h2c for HTTPRoutes; always h2c for
// GRPCRoutes), over TLS when the backend's Service port has a BackendTLSPolicy.
func (t *translation) convertMirror(kind *backendRules, routeNS string, f *gwapiv1.HTTPRequestMirrorFilter, at string, st *checkedRules, bad *problems) (ir.Mirror, bool) {
	if f == nil {
		bad.addf("%s: type RequestMirror needs requestMirror", at)
		return ir.Mirror{}, false
	}
	percent, ok := mirrorPercent(f, at, bad)
	res := t.resolveBackendFrom(kind.kind, routeNS, &f.BackendRef)
	var tls *ir.BackendTLS
	if kind.backendTLS {
		tls = res.applyPolicy()
	}
	if res.reason == "" && kind.portProblem != nil {
		if problem := kind.portProblem(t.portAppProtocol(routeNS, &f.BackendRef), tls != nil); problem != "" {
			res = resolved{reason: gwapiv1.RouteReasonUnsupportedProtocol, msg: "mirror backend: " + problem}
		}
	}
	if kind.protocol != "" {
		res.proto = kind.protocol
	}
	if res.reason != "" {
		if st.refReason == gwapiv1.RouteReasonResolvedRefs {
			st.refReason, st.refMsg = res.reason, at+" requestMirror: "+res.msg
		}
		return ir.Mirror{}, false
	}
	return ir.Mirror{Address: res.addr, Percent: percent, Protocol: res.proto, TLS: tls}, ok && percent > 0
}

// mirrorPercent is the share of requests to mirror: percent, or the fraction, or all.
func mirrorPercent(f *gwapiv1.HTTPRequestMirrorFilter, at string, bad *problems) (float64, bool) {
	switch {
	case f.Percent != nil && f.Fraction != nil:
		bad.addf("%s: requestMirror: only one of percent and fraction may be set", at)
		return 0, false
	case f.Percent != nil:
		if p := *f.Percent; p < 0 || p > 100 {
			bad.addf("%s: requestMirror: percent %d is outside 0..100", at, p)
			return 0, false
		}
		return float64(*f.Percent), true
	case f.Fraction != nil:
		den := int32(100)
		if f.Fraction.Denominator != nil {
			den = *f.Fraction.Denominator
		}
		if num := f.Fraction.Numerator; den <= 0 || num < 0 || num > den {
			bad.addf("%s: requestMirror: fraction %d/%d must be between 0 and 1 with a positive denominator", at, num, den)
			return 0, false
		}
		return 100 * float64(f.Fraction.Numerator) / float64(den), true
	}
	return 100, true
}

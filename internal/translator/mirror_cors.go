package translator

import (
	"fmt"
	"regexp"
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/caddymod/cors/origins"
	"github.com/caddy-gateway/operator/internal/ir"
)

// convertMirrors resolves the RequestMirror filters of an HTTPRoute rule into a.Mirrors,
// in filter order. A mirror whose backend cannot be used is left out and sets the
// route's ResolvedRefs condition (when no earlier problem did), as the spec asks; the
// rest of the rule keeps working.
func (t *translation) convertMirrors(routeNS string, filters []gwapiv1.HTTPRouteFilter, a *ir.Action, st *checkedRules, ruleIdx int, bad *problems) {
	for i := range filters {
		f := &filters[i]
		if f.Type != gwapiv1.HTTPRouteFilterRequestMirror {
			continue
		}
		at := fmt.Sprintf("rules[%d].filters[%d]", ruleIdx, i)
		if m, ok := t.convertMirror(&httpBackends, routeNS, f.RequestMirror, at, st, bad); ok {
			a.Mirrors = append(a.Mirrors, m)
		}
	}
}

// convertMirror converts one RequestMirror filter of a route whose backends follow
// kind; ok is false when nothing is to be mirrored (bad configuration, unusable
// backend, 0%). Copies speak the kind's protocol, or the backend's from its
// appProtocol when the kind has none (HTTP/1.1 or h2c for HTTPRoutes; always h2c for
// GRPCRoutes).
func (t *translation) convertMirror(kind *backendRules, routeNS string, f *gwapiv1.HTTPRequestMirrorFilter, at string, st *checkedRules, bad *problems) (ir.Mirror, bool) {
	if f == nil {
		bad.addf("%s: type RequestMirror needs requestMirror", at)
		return ir.Mirror{}, false
	}
	percent, ok := mirrorPercent(f, at, bad)
	res := t.resolveBackendFrom(kind.kind, routeNS, &f.BackendRef)
	if res.reason == "" && kind.portProblem != nil {
		if problem := kind.portProblem(t.portAppProtocol(routeNS, &f.BackendRef)); problem != "" {
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
	return ir.Mirror{Address: res.addr, Percent: percent, Protocol: res.proto}, ok && percent > 0
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

// corsOriginPattern is the CORSOrigin syntax of the Gateway API CRD.
var corsOriginPattern = regexp.MustCompile(`(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)`)

// convertCORS converts a CORS filter; values the CRD would reject are problems too,
// since the data-plane module refuses them and would fail the whole config.
func convertCORS(f *gwapiv1.HTTPCORSFilter, at string, bad *problems) *ir.CORS {
	if f == nil {
		bad.addf("%s: type CORS needs cors", at)
		return nil
	}
	out := &ir.CORS{MaxAge: f.MaxAge, AllowCredentials: f.AllowCredentials != nil && *f.AllowCredentials}
	if out.MaxAge <= 0 {
		out.MaxAge = 5 // the API default
	}
	for _, o := range f.AllowOrigins {
		if !corsOriginPattern.MatchString(string(o)) {
			bad.addf("%s: cors: allowOrigins value %q is not \"*\" or http(s)://host[:port]", at, o)
		} else if _, err := origins.ParsePattern(string(o)); err != nil {
			// What the data-plane module refuses beyond the CRD's syntax (port 0).
			bad.addf("%s: cors: %v", at, err)
		}
		out.AllowOrigins = append(out.AllowOrigins, string(o))
	}
	for _, m := range f.AllowMethods {
		if m != "*" && !isToken(string(m)) {
			bad.addf("%s: cors: invalid method %q in allowMethods", at, m)
		}
		out.AllowMethods = append(out.AllowMethods, string(m))
	}
	out.AllowHeaders = corsHeaderNames(f.AllowHeaders, at, "allowHeaders", bad)
	out.ExposeHeaders = corsHeaderNames(f.ExposeHeaders, at, "exposeHeaders", bad)
	for _, l := range []struct {
		field  string
		values []string
	}{{"allowOrigins", out.AllowOrigins}, {"allowMethods", out.AllowMethods}, {"allowHeaders", out.AllowHeaders}} {
		if len(l.values) > 1 && slices.Contains(l.values, "*") {
			bad.addf("%s: cors: %s cannot contain \"*\" alongside other values", at, l.field)
		}
	}
	return out
}

func corsHeaderNames(names []gwapiv1.HTTPHeaderName, at, field string, bad *problems) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "*" && !isToken(string(n)) {
			bad.addf("%s: cors: invalid header name %q in %s", at, n, field)
		}
		out = append(out, string(n))
	}
	return out
}

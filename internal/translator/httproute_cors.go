package translator

import (
	"regexp"
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/caddymod/cors/origins"
	"github.com/caddy-gateway/operator/internal/ir"
)

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

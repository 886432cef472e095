package translator

import (
	"fmt"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// grpcUnavailable is the HTTP status answered for gRPC requests without a usable
// backend: gRPC clients map HTTP 503 to UNAVAILABLE, the status the GRPCRoute spec
// requires for invalid backendRefs.
const grpcUnavailable = 503

// grpcBackends are the backendRules of GRPCRoutes. Backends always speak HTTP/2: h2c
// (prior knowledge) unless the Service port's appProtocol says something else, which
// grpcAppProtocol refuses.
var grpcBackends = backendRules{kind: kindGRPCRoute, protocol: ir.ProtocolH2C, portProblem: grpcAppProtocol,
	unavailable: grpcUnavailable, backendTLS: true}

// resolveGRPCBackends fills a GRPCRoute rule's backends (weightedBackends).
func (t *translation) resolveGRPCBackends(routeNS string, refs []gwapiv1.GRPCBackendRef, a *ir.Action, st *checkedRules, ruleIdx int, bad *problems) {
	w := t.weightedBackends(weightedBackends{rules: &grpcBackends, a: a, st: st, ruleIdx: ruleIdx, bad: bad}, len(refs))
	for i := range refs {
		ref := &refs[i]
		var filters *ir.BackendFilters
		if len(ref.Filters) > 0 {
			filters = t.convertGRPCBackendFilters(routeNS, ref.Filters, fmt.Sprintf("rules[%d].backendRefs[%d]", ruleIdx, i), st, bad)
		}
		if at, ok := w.add(routeNS, &ref.BackendRef, i); ok {
			a.Backends[at].Filters = filters
		}
	}
	w.finish()
}

// grpcAppProtocol says why a Service port cannot carry gRPC, or "" when it can; tls
// says a BackendTLSPolicy makes the backend speak TLS, inside which https carries HTTP/2.
// The shared resolver already rejected unknown values and https without a policy; what
// is left is HTTP/1.1.
func grpcAppProtocol(p *string, tls bool) string {
	if p == nil {
		return ""
	}
	switch strings.ToLower(*p) {
	case "", "kubernetes.io/h2c":
		return ""
	case "https", "kubernetes.io/https":
		if tls {
			return ""
		}
	}
	return fmt.Sprintf("appProtocol %q is HTTP/1.1, which cannot carry gRPC; leave it unset or use kubernetes.io/h2c", *p)
}

// convertGRPCBackendFilters converts the filters of one GRPCRoute backendRef; nil when
// there are none.
func (t *translation) convertGRPCBackendFilters(routeNS string, filters []gwapiv1.GRPCRouteFilter, at string, st *checkedRules, bad *problems) *ir.BackendFilters {
	if len(filters) == 0 {
		return nil
	}
	out := &ir.BackendFilters{}
	for i := range filters {
		f := &filters[i]
		where := fmt.Sprintf("%s.filters[%d]", at, i)
		switch f.Type {
		case gwapiv1.GRPCRouteFilterRequestHeaderModifier:
			out.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, where, "requestHeaderModifier", bad)
		case gwapiv1.GRPCRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, where, "responseHeaderModifier", bad)
		case gwapiv1.GRPCRouteFilterRequestMirror:
			if m, ok := t.convertMirror(&grpcBackends, routeNS, f.RequestMirror, where, st, bad); ok {
				out.Mirrors = append(out.Mirrors, m)
			}
		default:
			bad.addf("%s: %s", where, unsupportedGRPCFilter(f))
		}
	}
	return out
}

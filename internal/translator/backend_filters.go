package translator

import (
	"fmt"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// backendFilterTypes lists the filters this implementation runs on a backendRef
// (support there is implementation-specific in the Gateway API).
const backendFilterTypes = "RequestHeaderModifier, ResponseHeaderModifier, URLRewrite, RequestMirror"

// convertBackendFilters converts the filters of one HTTPRoute backendRef (at names it)
// of rule ru; nil when there are none. RequestRedirect and CORS are refused there: a
// redirect or a preflight answer for a weighted share of requests is not something a
// user can mean, and ExtensionRef is not supported anywhere.
func (t *translation) convertBackendFilters(routeNS string, filters []gwapiv1.HTTPRouteFilter, ru *rule, at string, st *checkedRules, bad *problems) *ir.BackendFilters {
	if len(filters) == 0 {
		return nil
	}
	out := &ir.BackendFilters{}
	for i := range filters {
		f := &filters[i]
		where := fmt.Sprintf("%s.filters[%d]", at, i)
		switch f.Type {
		case gwapiv1.HTTPRouteFilterRequestHeaderModifier:
			out.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, where, bad)
		case gwapiv1.HTTPRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, where, bad)
		case gwapiv1.HTTPRouteFilterURLRewrite:
			out.Rewrite = backendRewrite(f.URLRewrite, ru, where, bad)
		case gwapiv1.HTTPRouteFilterRequestMirror:
			if m, ok := t.convertMirror(kindHTTPRoute, routeNS, f.RequestMirror, where, st, bad); ok {
				out.Mirrors = append(out.Mirrors, m)
			}
		default:
			bad.addf("%s: filter type %q is not supported on a backendRef by this implementation; supported there: %s",
				where, f.Type, backendFilterTypes)
		}
	}
	return out
}

// backendRewrite converts a backendRef URLRewrite filter. A prefix replacement needs
// PathPrefix matches in the rule, as on the rule itself; the matched prefix is filled
// in per match (actionFor, withMatchPrefix).
func backendRewrite(f *gwapiv1.HTTPURLRewriteFilter, ru *rule, where string, bad *problems) *ir.Rewrite {
	if f == nil {
		bad.addf("%s: type URLRewrite needs urlRewrite", where)
		return nil
	}
	checkPathModifier(f.Path, where, bad)
	rw := &ir.Rewrite{Path: pathModifier(f.Path)}
	if f.Hostname != nil {
		rw.Hostname = string(*f.Hostname)
	}
	if rw.Path == nil || rw.Path.Type != ir.ReplacePrefixMatch {
		return rw
	}
	for _, m := range ru.matches {
		if m.PathType != ir.PathPrefix {
			bad.addf("%s: ReplacePrefixMatch needs PathPrefix matches, found %s", where, m.PathType)
			break
		}
	}
	return rw
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
			out.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, where, bad)
		case gwapiv1.GRPCRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, where, bad)
		case gwapiv1.GRPCRouteFilterRequestMirror:
			if m, ok := t.convertMirror(kindGRPCRoute, routeNS, f.RequestMirror, where, st, bad); ok {
				out.Mirrors = append(out.Mirrors, m)
			}
		default:
			bad.addf("%s: %s", where, unsupportedGRPCFilter(f))
		}
	}
	return out
}

// hasBackendPrefixRewrite reports whether a backend's URLRewrite replaces the matched
// prefix.
func hasBackendPrefixRewrite(bs []ir.Backend) bool {
	for i := range bs {
		if f := bs[i].Filters; f != nil && f.Rewrite != nil && f.Rewrite.Path != nil && f.Rewrite.Path.Type == ir.ReplacePrefixMatch {
			return true
		}
	}
	return false
}

// withMatchPrefix returns the backends of a rule as seen from a match with the given
// path prefix: backend prefix rewrites get the prefix they replace. Backends without
// one are shared with the rule.
func withMatchPrefix(bs []ir.Backend, prefix string) []ir.Backend {
	out := make([]ir.Backend, len(bs))
	copy(out, bs)
	for i := range out {
		f := out[i].Filters
		if f == nil || f.Rewrite == nil || f.Rewrite.Path == nil || f.Rewrite.Path.Type != ir.ReplacePrefixMatch {
			continue
		}
		fc, rw, pm := *f, *f.Rewrite, *f.Rewrite.Path
		pm.Prefix = prefix
		rw.Path = &pm
		fc.Rewrite = &rw
		out[i].Filters = &fc
	}
	return out
}

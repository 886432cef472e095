package translator

import (
	"fmt"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// convertBackendFilters converts the filters of one HTTPRoute backendRef (at names it)
// of rule ru; nil when there are none. Every filter type of the rule level is supported
// (support on backendRefs is implementation-specific in the Gateway API) except
// ExtensionRef, as on rules. A RequestRedirect is returned apart: its scheme and port
// defaults depend on the listener (actionFor).
func (t *translation) convertBackendFilters(routeNS string, filters []gwapiv1.HTTPRouteFilter, ru *rule, at string, st *checkedRules, bad *problems) (*ir.BackendFilters, *gwapiv1.HTTPRequestRedirectFilter) {
	if len(filters) == 0 {
		return nil, nil
	}
	out := &ir.BackendFilters{}
	var redirect *gwapiv1.HTTPRequestRedirectFilter
	for i := range filters {
		f := &filters[i]
		where := fmt.Sprintf("%s.filters[%d]", at, i)
		switch f.Type {
		case gwapiv1.HTTPRouteFilterRequestHeaderModifier:
			out.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, where, "requestHeaderModifier", bad)
		case gwapiv1.HTTPRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, where, "responseHeaderModifier", bad)
		case gwapiv1.HTTPRouteFilterURLRewrite:
			out.Rewrite = backendRewrite(f.URLRewrite, ru, where, bad)
		case gwapiv1.HTTPRouteFilterRequestMirror:
			if m, ok := t.convertMirror(&httpBackends, routeNS, f.RequestMirror, where, st, bad); ok {
				out.Mirrors = append(out.Mirrors, m)
			}
		case gwapiv1.HTTPRouteFilterRequestRedirect:
			redirect = backendRedirect(f.RequestRedirect, ru, where, bad)
		case gwapiv1.HTTPRouteFilterCORS:
			out.CORS = convertCORS(f.CORS, where, bad)
		default:
			bad.addf("%s: filter type %q is not supported by this implementation", where, f.Type)
		}
	}
	if redirect != nil && out.Rewrite != nil {
		bad.addf("%s.filters: RequestRedirect and URLRewrite cannot be combined", at)
	}
	return out, redirect
}

// backendRedirect checks a backendRef RequestRedirect filter; nil when it has no
// configuration.
func backendRedirect(f *gwapiv1.HTTPRequestRedirectFilter, ru *rule, where string, bad *problems) *gwapiv1.HTTPRequestRedirectFilter {
	if f == nil {
		bad.addf("%s: type RequestRedirect needs requestRedirect", where)
		return nil
	}
	checkRedirect(f, where, bad)
	if f.Path != nil && f.Path.Type == gwapiv1.PrefixMatchHTTPPathModifier {
		checkPrefixMatches(ru, where, bad)
	}
	return f
}

// checkPrefixMatches rejects a prefix replacement in a rule with non-prefix matches.
func checkPrefixMatches(ru *rule, where string, bad *problems) {
	for _, m := range ru.matches {
		if m.PathType != ir.PathPrefix {
			bad.addf("%s: ReplacePrefixMatch needs PathPrefix matches, found %s", where, m.PathType)
			return
		}
	}
}

// backendRewrite converts a backendRef URLRewrite filter. A prefix replacement needs
// PathPrefix matches in the rule, as on the rule itself; the matched prefix is filled
// in per match (actionFor, withMatchPrefix).
func backendRewrite(f *gwapiv1.HTTPURLRewriteFilter, ru *rule, where string, bad *problems) *ir.Rewrite {
	if f == nil {
		bad.addf("%s: type URLRewrite needs urlRewrite", where)
		return nil
	}
	checkPathModifier(f.Path, where, "urlRewrite.path", bad)
	rw := &ir.Rewrite{Path: pathModifier(f.Path)}
	if f.Hostname != nil {
		rw.Hostname = string(*f.Hostname)
		checkHeaderText(rw.Hostname, where, "urlRewrite.hostname", bad)
	}
	if rw.Path != nil && rw.Path.Type == ir.ReplacePrefixMatch {
		checkPrefixMatches(ru, where, bad)
	}
	return rw
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

// addBackendRedirect records the RequestRedirect filter of backend i of rule ri.
func (c *checkedRules) addBackendRedirect(ri, i int, f *gwapiv1.HTTPRequestRedirectFilter) {
	x := c.extras()
	if x.backendRedirects == nil {
		x.backendRedirects = map[int][]*gwapiv1.HTTPRequestRedirectFilter{}
	}
	rs := x.backendRedirects[ri]
	for len(rs) <= i {
		rs = append(rs, nil)
	}
	rs[i] = f
	x.backendRedirects[ri] = rs
}

// backendsFor returns the backends of a rule as seen from a match with the given path
// prefix on listener l: backend prefix rewrites get the prefix they replace, backend
// redirects (redirects, by backend index) their listener defaults and prefix.
// Backends without either keep the rule's filters.
func backendsFor(bs []ir.Backend, redirects []*gwapiv1.HTTPRequestRedirectFilter, prefix string, l *listener) []ir.Backend {
	out := make([]ir.Backend, len(bs))
	copy(out, bs)
	for i := range out {
		f := out[i].Filters
		var rd *gwapiv1.HTTPRequestRedirectFilter
		if i < len(redirects) {
			rd = redirects[i]
		}
		prefixRewrite := f != nil && f.Rewrite != nil && f.Rewrite.Path != nil && f.Rewrite.Path.Type == ir.ReplacePrefixMatch
		if !prefixRewrite && rd == nil {
			continue
		}
		fc := *f
		if prefixRewrite {
			rw, pm := *f.Rewrite, *f.Rewrite.Path
			pm.Prefix = prefix
			rw.Path = &pm
			fc.Rewrite = &rw
		}
		if rd != nil {
			fc.Redirect = listenerRedirect(rd, l)
			if fc.Redirect.Path != nil && fc.Redirect.Path.Type == ir.ReplacePrefixMatch {
				fc.Redirect.Path.Prefix = prefix
			}
		}
		out[i].Filters = &fc
	}
	return out
}

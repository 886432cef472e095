package translator

import (
	"fmt"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// convertFilters converts a rule's filters into ru; unsupported filters are problems.
func (t *translation) convertFilters(ru *rule, filters []gwapiv1.HTTPRouteFilter, ruleIdx int, bad *problems) {
	for i, f := range filters {
		at := fmt.Sprintf("rules[%d].filters[%d]", ruleIdx, i)
		switch f.Type {
		case gwapiv1.HTTPRouteFilterRequestHeaderModifier:
			ru.action.RequestHeaders = convertHeaderFilter(f.RequestHeaderModifier, at, "requestHeaderModifier", bad)
		case gwapiv1.HTTPRouteFilterResponseHeaderModifier:
			ru.action.ResponseHeaders = convertHeaderFilter(f.ResponseHeaderModifier, at, "responseHeaderModifier", bad)
		case gwapiv1.HTTPRouteFilterRequestRedirect:
			if f.RequestRedirect == nil {
				bad.addf("%s: type RequestRedirect needs requestRedirect", at)
				continue
			}
			ru.redirect = f.RequestRedirect
			checkRedirect(f.RequestRedirect, at, bad)
		case gwapiv1.HTTPRouteFilterURLRewrite:
			if f.URLRewrite == nil {
				bad.addf("%s: type URLRewrite needs urlRewrite", at)
				continue
			}
			ru.rewrite = f.URLRewrite
			ru.action.Rewrite = &ir.Rewrite{}
			if f.URLRewrite.Hostname != nil {
				ru.action.Rewrite.Hostname = string(*f.URLRewrite.Hostname)
				checkHeaderText(ru.action.Rewrite.Hostname, at, "urlRewrite.hostname", bad)
			}
			checkPathModifier(f.URLRewrite.Path, at, "urlRewrite.path", bad)
		case gwapiv1.HTTPRouteFilterRequestMirror:
			// resolved by convertMirrors, which knows the route
		case gwapiv1.HTTPRouteFilterCORS:
			ru.action.CORS = convertCORS(f.CORS, at, bad)
		default:
			bad.addf("%s: filter type %q is not supported by this implementation", at, f.Type)
		}
	}
	if ru.redirect != nil && ru.rewrite != nil {
		bad.addf("rules[%d]: RequestRedirect and URLRewrite cannot be combined", ruleIdx)
	}
}

func checkRedirect(f *gwapiv1.HTTPRequestRedirectFilter, where string, bad *problems) {
	if f.Scheme != nil && *f.Scheme != "http" && *f.Scheme != "https" {
		bad.addf("%s: redirect scheme %q is not supported; use http or https", where, *f.Scheme)
	}
	if f.StatusCode != nil {
		switch *f.StatusCode {
		case 301, 302, 303, 307, 308:
		default:
			bad.addf("%s: redirect statusCode %d is not supported", where, *f.StatusCode)
		}
	}
	if f.Hostname != nil {
		checkHeaderText(string(*f.Hostname), where, "requestRedirect.hostname", bad)
	}
	checkPathModifier(f.Path, where, "requestRedirect.path", bad)
}

// checkPathModifier checks the path modifier p, which field names within the filter
// at where.
func checkPathModifier(p *gwapiv1.HTTPPathModifier, where, field string, bad *problems) {
	if p == nil {
		return
	}
	var v *string
	switch p.Type {
	case gwapiv1.FullPathHTTPPathModifier:
		v, field = p.ReplaceFullPath, field+".replaceFullPath"
	case gwapiv1.PrefixMatchHTTPPathModifier:
		v, field = p.ReplacePrefixMatch, field+".replacePrefixMatch"
	default:
		bad.addf("%s: path modifier type %q is not supported", where, p.Type)
		return
	}
	if v == nil {
		bad.addf("%s: path modifier %s needs a value", where, p.Type)
		return
	}
	if !strings.HasPrefix(*v, "/") || strings.ContainsAny(*v, "?#") {
		bad.addf("%s: path %q must start with / and contain no ? or #", where, *v)
	}
	checkHeaderText(*v, where, field, bad)
}

// listenerRedirect computes the redirect of a rule as seen from listener l, applying
// the spec's port rules: an explicit port wins; otherwise the scheme's well-known port
// when a scheme is given, else the listener's port; default ports are left out.
func listenerRedirect(f *gwapiv1.HTTPRequestRedirectFilter, l *listener) *ir.Redirect {
	out := &ir.Redirect{Scheme: l.scheme(), StatusCode: 302}
	if f.StatusCode != nil {
		out.StatusCode = *f.StatusCode
	}
	if f.Hostname != nil {
		out.Hostname = string(*f.Hostname)
	}
	port := l.spec.Port
	if f.Scheme != nil {
		out.Scheme = *f.Scheme
		port = map[string]int32{"http": 80, "https": 443}[out.Scheme]
	}
	if f.Port != nil {
		port = *f.Port
	}
	if out.Scheme == "http" && port == 80 || out.Scheme == "https" && port == 443 {
		port = 0
	}
	out.Port = port
	out.Path = pathModifier(f.Path)
	return out
}

func pathModifier(p *gwapiv1.HTTPPathModifier) *ir.PathModifier {
	if p == nil {
		return nil
	}
	if p.Type == gwapiv1.FullPathHTTPPathModifier && p.ReplaceFullPath != nil {
		return &ir.PathModifier{Type: ir.ReplaceFullPath, Value: *p.ReplaceFullPath}
	}
	if p.ReplacePrefixMatch != nil {
		return &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: *p.ReplacePrefixMatch}
	}
	return nil
}

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

package translator

import (
	"fmt"
	"net/textproto"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/status"
)

// checkFilters resolves the pre-routing filters of l (filters.requests, GEP-5224) into
// l.filters. A filter we cannot run as the spec says rejects the listener
// (Accepted=False, UnsupportedValue): a listener never serves with a filter left out.
// An ExternalAuth whose backendRef does not resolve leaves the listener accepted with
// ResolvedRefs=False, and every request it gets is answered 500: none passes unchecked.
// A backendRef is relative to the listener's owner, the Gateway or its ListenerSet, and
// one to another namespace needs a ReferenceGrant from that kind.
func (t *translation) checkFilters(l *listener) {
	if l.spec.Filters == nil || len(l.spec.Filters.Requests) == 0 {
		return
	}
	if p := l.spec.Protocol; p != gwapiv1.HTTPProtocolType && p != gwapiv1.HTTPSProtocolType {
		l.reject(status.ListenerReasonInvalidListenerFilter,
			fmt.Sprintf("filters are only valid on HTTP and HTTPS listeners, not %s", p))
		return
	}
	for i := range l.spec.Filters.Requests {
		f := &l.spec.Filters.Requests[i]
		at := fmt.Sprintf("filters.requests[%d]", i)
		switch {
		case f.Type == gwapiv1.ListenerFilterExtensionRef && f.ExtensionRef != nil:
			r := f.ExtensionRef
			msg := fmt.Sprintf("%s: ExtensionRef %s/%s %q is not supported; supported: ExternalAuth with protocol HTTP",
				at, r.Group, r.Kind, r.Name)
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, msg)
			l.badRef(status.ListenerReasonInvalidListenerFilterRef, msg)
		case f.Type == gwapiv1.ListenerFilterExternalAuth && f.ExternalAuth != nil:
			if auth, ok := t.externalAuth(l, at, f.ExternalAuth); ok {
				l.filters = append(l.filters, ir.RequestFilter{ExternalAuth: auth})
			}
		default:
			l.reject(status.ListenerReasonInvalidListenerFilter,
				fmt.Sprintf("%s: type %q needs its own field set, and only it", at, f.Type))
		}
	}
	if !l.accepted {
		l.filters = nil
	}
}

// externalAuth resolves one ExternalAuth filter (at names it in messages); ok is false
// when the listener was rejected for it.
func (t *translation) externalAuth(l *listener, at string, f *gwapiv1.HTTPExternalAuthFilter) (*ir.ExternalAuth, bool) {
	switch {
	case f.ExternalAuthProtocol != gwapiv1.HTTPRouteExternalAuthHTTPProtocol:
		l.reject(gwapiv1.ListenerReasonUnsupportedValue,
			fmt.Sprintf("%s: externalAuth protocol %q is not supported; supported: HTTP", at, f.ExternalAuthProtocol))
		return nil, false
	case f.ForwardBody != nil && f.ForwardBody.MaxSize > 0:
		l.reject(gwapiv1.ListenerReasonUnsupportedValue,
			fmt.Sprintf("%s: externalAuth.forwardBody is not supported; the body is never sent to the service", at))
		return nil, false
	}
	c := f.HTTPAuthConfig
	if c == nil {
		c = &gwapiv1.HTTPAuthConfig{}
	}
	auth := &ir.ExternalAuth{
		PathPrefix:             pathPrefix(c.Path),
		AllowedHeaders:         headerNames(c.AllowedRequestHeaders),
		AllowedResponseHeaders: headerNames(c.AllowedResponseHeaders),
	}
	ns := l.namespace(t.gw)
	res := t.resolveBackendFrom(l.ownerKind(), ns, &f.BackendRef)
	switch {
	case res.reason == gwapiv1.RouteReasonRefNotPermitted:
		l.badRef(gwapiv1.ListenerReasonRefNotPermitted, fmt.Sprintf("%s: externalAuth.%s", at, res.msg))
	case res.reason != "":
		l.badRef(status.ListenerReasonInvalidListenerFilterRef, fmt.Sprintf("%s: externalAuth.backendRef: %s", at, res.msg))
	case res.policy != nil || res.proto != ir.ProtocolHTTP:
		l.badRef(status.ListenerReasonInvalidListenerFilterRef, fmt.Sprintf(
			"%s: externalAuth.backendRef %s: only plain HTTP/1.1 is spoken to an authorization service (no BackendTLSPolicy, no h2c)",
			at, backendName(ns, &f.BackendRef)))
	default:
		auth.Address = res.addr
		return auth, true
	}
	auth.Invalid = true
	return auth, true
}

// pathPrefix is path as a prefix of request paths: starting with a slash, ending
// without one ("" for none).
func pathPrefix(path string) string {
	if p := strings.Trim(path, "/"); p != "" {
		return "/" + p
	}
	return ""
}

// headerNames canonicalises, sorts and dedupes header names.
func headerNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, textproto.CanonicalMIMEHeaderKey(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

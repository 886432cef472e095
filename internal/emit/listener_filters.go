package emit

import (
	"net/http"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// withRequestFilters puts the listener's pre-routing filters, in order, before its
// route table handler h: one subroute whose handlers run filter by filter, then h. A
// filter that answers the request (a denial) ends it there; route matching runs once,
// after the last filter. An invalid filter answers every request 500.
func (e *emitter) withRequestFilters(l *ir.Listener, h caddyjson.Handler) caddyjson.Handler {
	if len(l.RequestFilters) == 0 {
		return h
	}
	handle := make([]caddyjson.Handler, 0, len(l.RequestFilters)+1)
	for i := range l.RequestFilters {
		a := l.RequestFilters[i].ExternalAuth
		if a.Invalid {
			// Every request ends here. h still follows, unreached, so that the
			// listener's route table keeps its handler in the frame.
			handle = append(handle, status(http.StatusInternalServerError))
			break
		}
		handle = append(handle, e.externalAuth(a))
	}
	handle = append(handle, h)
	return caddyjson.Subroute{Handler: "subroute", Routes: []caddyjson.Route{{Handle: handle}}}
}

// externalAuth asks the authorization service of a with a GET without body that
// carries the request's Host, path (after a's prefix) and query, its Authorization and
// a's allowed headers, and X-Forwarded-Method and X-Forwarded-Uri. A 200 copies a's
// allowed response headers into the request (each is first removed from it, so that a
// client cannot supply one the service does not set) and lets it continue; any other
// answer, and 502 when the service cannot be reached, goes back to the client.
func (e *emitter) externalAuth(a *ir.ExternalAuth) caddyjson.Handler {
	set := map[string][]string{
		"Host":               {"{http.request.hostport}"},
		"Authorization":      {"{http.request.header.Authorization}"},
		"X-Forwarded-Method": {"{http.request.method}"},
		"X-Forwarded-Uri":    {"{http.request.uri}"},
	}
	for _, h := range a.AllowedHeaders {
		if h != "Host" {
			set[h] = []string{"{http.request.header." + h + "}"}
		}
	}
	return caddyjson.AuthProxy{
		Handler:   "reverse_proxy",
		Upstreams: []caddyjson.Upstream{{Dial: lit(a.Address)}},
		Headers:   &caddyjson.ProxyHeaders{Request: &caddyjson.HeaderOps{Delete: []string{"*"}, Set: set}},
		Rewrite:   &caddyjson.ProxyRewrite{Method: http.MethodGet, URI: lit(a.PathPrefix) + "{http.request.uri}"},
		HandleResponse: []caddyjson.ResponseHandler{{
			Match:  &caddyjson.ResponseMatcher{StatusCode: []int{http.StatusOK}},
			Routes: copyAuthHeaders(a.AllowedResponseHeaders),
		}},
	}
}

// copyAuthHeaders are the routes that copy the named headers of the service's answer
// into the request: each is removed from the request, then set when the answer has
// it. Host is never copied: a pre-routing filter must not change it. The first route
// exists even with nothing to copy, as reverse_proxy skips a response handler without
// routes.
func copyAuthHeaders(names []string) []caddyjson.Route {
	var del []string
	for _, h := range names {
		if h != "Host" {
			del = append(del, h)
		}
	}
	routes := []caddyjson.Route{{Handle: []caddyjson.Handler{caddyjson.Headers{Handler: "headers",
		Request: &caddyjson.HeaderOps{Delete: del}}}}}
	for _, h := range del {
		ph := "{http.reverse_proxy.header." + h + "}"
		var present caddyjson.RegexpMap
		present.Set(ph, caddyjson.Regexp{Pattern: "."})
		routes = append(routes, caddyjson.Route{
			Match: []caddyjson.MatcherSet{{VarsRegexp: present}},
			Handle: []caddyjson.Handler{caddyjson.Headers{Handler: "headers",
				Request: &caddyjson.HeaderOps{Set: map[string][]string{h: {ph}}}}},
		})
	}
	return routes
}

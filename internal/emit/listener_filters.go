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

// externalAuth asks the authorization service of a about each request (see
// caddyjson.ExternalAuth): its method, Host, path after a's prefix and query,
// Authorization and a's allowed headers, no body. A 200 copies a's allowed response
// headers into the request and lets it continue; any other answer, and 502 when the
// service cannot be reached, goes back to the client.
func (e *emitter) externalAuth(a *ir.ExternalAuth) caddyjson.Handler {
	return caddyjson.ExternalAuth{
		Handler:                "gateway_external_auth",
		Proxy:                  caddyjson.ReverseProxy{Handler: "reverse_proxy", Upstreams: []caddyjson.Upstream{{Dial: lit(a.Address)}}},
		PathPrefix:             a.PathPrefix,
		AllowedHeaders:         a.AllowedHeaders,
		AllowedResponseHeaders: a.AllowedResponseHeaders,
	}
}

// Package extauth is the Caddy HTTP handler module http.handlers.gateway_external_auth:
// the Gateway API's ExternalAuth filter with protocol HTTP, as a listener's pre-routing
// filter. It asks an authorization service about each request through the
// reverse_proxy handler it holds, with the request's method, Host, path (after a prefix)
// and query, Authorization and the allowed headers, and no body (Content-Length 0). A
// 200 copies the allowed headers of the answer into the request, never Host, and lets
// the request continue; any other answer goes to the client as the service gave it, and
// the request goes no further. Caddy's forward_auth directive does the same with a GET
// that names the method in a header, and copies only headers it names; this handler
// keeps the method and can copy every header.
package extauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler asks the authorization service Proxy reaches about each request.
type Handler struct {
	// ProxyRaw is the reverse_proxy handler (or any handler) that sends the request to
	// the service and writes its answer.
	ProxyRaw json.RawMessage `json:"proxy" caddy:"namespace=http.handlers inline_key=handler"`
	// PathPrefix is put before the request's path in the request to the service.
	PathPrefix string `json:"path_prefix,omitempty"`
	// AllowedHeaders are the client request headers sent to the service besides Host,
	// Authorization and Content-Length, which always are.
	AllowedHeaders []string `json:"allowed_headers,omitempty"`
	// AllowedResponseHeaders are the headers of a 200 answer copied into the request;
	// empty copies every header but those that describe the answer itself (notCopied).
	// Host is never copied.
	AllowedResponseHeaders []string `json:"allowed_response_headers,omitempty"`

	proxy caddyhttp.MiddlewareHandler
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gateway_external_auth",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the proxy handler.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.ProxyRaw == nil {
		return fmt.Errorf("gateway_external_auth: proxy is required")
	}
	mod, err := ctx.LoadModule(h, "ProxyRaw")
	if err != nil {
		return fmt.Errorf("gateway_external_auth: loading proxy: %w", err)
	}
	p, ok := mod.(caddyhttp.MiddlewareHandler)
	if !ok {
		return fmt.Errorf("gateway_external_auth: proxy %T is not an HTTP handler", mod)
	}
	h.proxy = p
	return nil
}

// Validate rejects a prefix that is not a path.
func (h *Handler) Validate() error {
	if h.PathPrefix != "" && (!strings.HasPrefix(h.PathPrefix, "/") || strings.ContainsAny(h.PathPrefix, "?#")) {
		return fmt.Errorf("gateway_external_auth: path_prefix %q must start with / and hold no ? or #", h.PathPrefix)
	}
	return nil
}

// ServeHTTP asks the service, then either continues with next or stops with its answer
// written.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	aw := &answerWriter{w: w, header: http.Header{}}
	if err := h.proxy.ServeHTTP(aw, h.authRequest(r), noNext); err != nil {
		return err
	}
	if !aw.allowed {
		if !aw.wrote {
			aw.WriteHeader(http.StatusOK)
		}
		return nil
	}
	h.copyHeaders(r.Header, aw.header)
	return next.ServeHTTP(w, r)
}

// noNext ends the proxy's chain: its answer is all it may write.
var noNext = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// authRequest is the request to the service: r's method, Host, path after the prefix and
// query, its Authorization and allowed headers, and no body.
func (h *Handler) authRequest(r *http.Request) *http.Request {
	ar := r.Clone(r.Context())
	ar.Body, ar.ContentLength, ar.TransferEncoding, ar.Trailer = http.NoBody, 0, nil, nil
	ar.Header = http.Header{}
	for _, name := range append([]string{"Authorization"}, h.AllowedHeaders...) {
		if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok && !strings.EqualFold(name, "Host") {
			ar.Header[http.CanonicalHeaderKey(name)] = vs
		}
	}
	if h.PathPrefix != "" {
		ar.URL.Path = h.PathPrefix + r.URL.Path
		if r.URL.RawPath != "" {
			ar.URL.RawPath = h.PathPrefix + r.URL.RawPath
		}
		ar.RequestURI = ar.URL.RequestURI()
	}
	return ar
}

// copyHeaders sets the allowed headers of the answer in the request header dst, after
// removing the client's own of those names (a client cannot supply one the service does
// not set). Host is never copied: a pre-routing filter must not change it.
func (h *Handler) copyHeaders(dst, answer http.Header) {
	if len(h.AllowedResponseHeaders) == 0 {
		for name, vs := range answer {
			if !notCopied[name] {
				dst[name] = vs
			}
		}
		return
	}
	for _, name := range h.AllowedResponseHeaders {
		name = http.CanonicalHeaderKey(name)
		if name == "Host" {
			continue
		}
		dst.Del(name)
		if vs, ok := answer[name]; ok {
			dst[name] = vs
		}
	}
}

// notCopied are the headers of an answer that describe the answer itself, or would
// change the request's framing or Host: copying every header leaves them out.
var notCopied = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Content-Encoding": true,
	"Transfer-Encoding": true, "Connection": true, "Keep-Alive": true, "Date": true, "Server": true,
	"Via": true, "Trailer": true, "Upgrade": true, "Alt-Svc": true,
}

// answerWriter receives the service's answer: a 200 is kept (its headers for
// copyHeaders, its body dropped); any other answer goes to the client w.
type answerWriter struct {
	w       http.ResponseWriter
	header  http.Header
	allowed bool
	wrote   bool
}

func (a *answerWriter) Header() http.Header { return a.header }

func (a *answerWriter) WriteHeader(code int) {
	if a.wrote || code < 200 {
		return
	}
	a.wrote = true
	if code == http.StatusOK {
		a.allowed = true
		return
	}
	for name, vs := range a.header {
		a.w.Header()[name] = vs
	}
	a.w.WriteHeader(code)
}

func (a *answerWriter) Write(b []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	if a.allowed {
		return len(b), nil
	}
	return a.w.Write(b)
}

// Flush flushes a denial on to the client.
func (a *answerWriter) Flush() {
	if a.wrote && !a.allowed {
		_ = http.NewResponseController(a.w).Flush()
	}
}

var (
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ http.Flusher                = (*answerWriter)(nil)
)

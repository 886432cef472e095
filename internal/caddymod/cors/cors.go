// Package cors is the Caddy HTTP handler module http.handlers.gateway_cors: the Gateway
// API HTTPCORSFilter. It answers CORS preflight requests itself and adds the
// Access-Control-* headers to the responses of actual requests from allowed origins.
// Core Caddy has no such handler. It changes nothing for requests without an Origin
// header except adding "Vary: Origin", and never blocks an actual request: enforcing
// CORS is the browser's job.
package cors

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-gateway/operator/internal/caddymod/cors/origins"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// DefaultMaxAge is Access-Control-Max-Age when MaxAge is unset, the Gateway API default.
const DefaultMaxAge = 5

// Handler is one CORS policy. Header values are taken literally: placeholders are not
// expanded.
type Handler struct {
	// AllowOrigins are "*" (any origin) or "scheme://host[:port]" patterns; a host
	// starting with "*" matches any number of labels in its place ("https://*.x.com"
	// matches https://a.b.x.com but not https://x.com). A missing port is the scheme's
	// default. An allowed origin is always echoed in Access-Control-Allow-Origin.
	AllowOrigins []string `json:"allow_origins,omitempty"`
	// AllowMethods are listed in Access-Control-Allow-Methods of preflight answers;
	// ["*"] echoes the requested method instead.
	AllowMethods []string `json:"allow_methods,omitempty"`
	// AllowHeaders are listed in Access-Control-Allow-Headers of preflight answers;
	// ["*"] echoes the requested headers instead.
	AllowHeaders []string `json:"allow_headers,omitempty"`
	// ExposeHeaders are listed in Access-Control-Expose-Headers; ["*"] is sent as "*"
	// without credentials and not at all with them (the wildcard would be taken
	// literally by browsers).
	ExposeHeaders []string `json:"expose_headers,omitempty"`
	// AllowCredentials sends "Access-Control-Allow-Credentials: true".
	AllowCredentials bool `json:"allow_credentials,omitempty"`
	// MaxAge is Access-Control-Max-Age in seconds; 0 means DefaultMaxAge.
	MaxAge int `json:"max_age,omitempty"`

	origins []origins.Pattern
	// Precomputed header values; empty when the header is not sent or is echoed.
	methods, headers, expose, maxAge string
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gateway_cors",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision parses the origins and precomputes the header values.
func (h *Handler) Provision(caddy.Context) error {
	h.origins = h.origins[:0]
	for _, o := range h.AllowOrigins {
		p, err := origins.ParsePattern(o)
		if err != nil {
			return err
		}
		h.origins = append(h.origins, p)
	}
	if !isWildcard(h.AllowMethods) {
		h.methods = strings.Join(h.AllowMethods, ", ")
	}
	if !isWildcard(h.AllowHeaders) {
		h.headers = strings.Join(h.AllowHeaders, ", ")
	}
	if !isWildcard(h.ExposeHeaders) || !h.AllowCredentials {
		h.expose = strings.Join(h.ExposeHeaders, ", ")
	}
	h.maxAge = strconv.Itoa(cmpOr(h.MaxAge, DefaultMaxAge))
	return nil
}

// Validate checks the configuration.
func (h *Handler) Validate() error {
	for _, o := range h.AllowOrigins {
		if _, err := origins.ParsePattern(o); err != nil {
			return err
		}
		if o == "*" && len(h.AllowOrigins) > 1 {
			return fmt.Errorf(`allow_origins: "*" cannot be combined with other origins`)
		}
	}
	for _, list := range [][]string{h.AllowMethods, h.AllowHeaders, h.ExposeHeaders} {
		for _, v := range list {
			if v != "*" && !isToken(v) {
				return fmt.Errorf("%q is not a valid method or header name", v)
			}
		}
	}
	if h.MaxAge < 0 {
		return fmt.Errorf("max_age %d is negative", h.MaxAge)
	}
	return nil
}

// ServeHTTP answers preflights and decorates actual responses.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return next.ServeHTTP(w, r)
	}
	allowed := h.allowed(origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if allowed {
			h.preflight(w.Header(), r, origin)
		}
		// 200 rather than 204: both are valid answers, and the Gateway API conformance
		// suite accepts only 200 in some of its preflight cases.
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if !allowed {
		return next.ServeHTTP(w, r)
	}
	cw := &corsWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, h: h, origin: origin}
	return next.ServeHTTP(cw, r)
}

// preflight writes the headers of an allowed preflight answer.
func (h *Handler) preflight(hdr http.Header, r *http.Request, origin string) {
	h.common(hdr, origin)
	hdr.Add("Vary", "Access-Control-Request-Method")
	hdr.Add("Vary", "Access-Control-Request-Headers")
	switch {
	case h.methods != "":
		hdr.Set("Access-Control-Allow-Methods", h.methods)
	case isWildcard(h.AllowMethods):
		hdr.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
	}
	switch reqHeaders := strings.Join(r.Header.Values("Access-Control-Request-Headers"), ", "); {
	case h.headers != "":
		hdr.Set("Access-Control-Allow-Headers", h.headers)
	case isWildcard(h.AllowHeaders) && reqHeaders != "":
		hdr.Set("Access-Control-Allow-Headers", reqHeaders)
	}
	hdr.Set("Access-Control-Max-Age", h.maxAge)
}

// common sets the headers of every answer to an allowed origin, replacing any the
// backend sent.
func (h *Handler) common(hdr http.Header, origin string) {
	hdr.Set("Access-Control-Allow-Origin", origin)
	if h.AllowCredentials {
		hdr.Set("Access-Control-Allow-Credentials", "true")
	} else {
		hdr.Del("Access-Control-Allow-Credentials")
	}
	if h.expose != "" {
		hdr.Set("Access-Control-Expose-Headers", h.expose)
	} else {
		hdr.Del("Access-Control-Expose-Headers")
	}
}

func (h *Handler) allowed(origin string) bool {
	o, ok := origins.Parse(origin)
	for _, p := range h.origins {
		if p.Any || ok && p.Matches(o) {
			return true
		}
	}
	return false
}

// corsWriter sets the CORS headers when the response headers are written, after the
// backend's own headers are in.
type corsWriter struct {
	*caddyhttp.ResponseWriterWrapper
	h           *Handler
	origin      string
	wroteHeader bool
}

func (w *corsWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if status < 100 || status > 199 { // 1xx answers are not final
		w.wroteHeader = true
		w.h.common(w.Header(), w.origin)
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriterWrapper.Write(b)
}

// ReadFrom makes sure the headers are ours before the wrapped writer's ReadFrom,
// which would otherwise write them itself.
func (w *corsWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriterWrapper.ReadFrom(r)
}

func isWildcard(l []string) bool { return len(l) == 1 && l[0] == "*" }

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// isToken reports whether s is an HTTP token (RFC 9110), the syntax of method and
// header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ http.ResponseWriter         = (*corsWriter)(nil)
	_ io.ReaderFrom               = (*corsWriter)(nil)
)

// Package deadline is the Caddy HTTP handler module http.handlers.gateway_request_timeout:
// the Gateway API request timeout of a rule, a deadline for the whole transaction with
// the backends, retries included. Core Caddy bounds single attempts
// (response_header_timeout) and when retries may start (try_duration), but an attempt
// that starts before try_duration ends may run past the rule's timeout and its answer is
// then sent. This handler cancels the request's context at the deadline and answers 504
// when nothing was written by then.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler bounds the rest of the handler chain by Timeout.
type Handler struct {
	// Timeout is the deadline, from when the handler starts; it must be positive.
	Timeout caddy.Duration `json:"timeout"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gateway_request_timeout",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Validate rejects a missing or negative timeout.
func (h *Handler) Validate() error {
	if h.Timeout <= 0 {
		return fmt.Errorf("gateway_request_timeout: timeout must be positive, got %s", time.Duration(h.Timeout))
	}
	return nil
}

// ServeHTTP runs next under the deadline. When the deadline passed and next wrote no
// response, the answer is 504 Gateway Timeout.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(h.Timeout))
	defer cancel()
	rw := &watchWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	err := next.ServeHTTP(rw, r.WithContext(ctx))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !rw.wrote {
		return caddyhttp.Error(http.StatusGatewayTimeout, fmt.Errorf("request timeout %s exceeded", time.Duration(h.Timeout)))
	}
	return err
}

// watchWriter records whether a response was started.
type watchWriter struct {
	*caddyhttp.ResponseWriterWrapper
	wrote bool
}

func (w *watchWriter) WriteHeader(status int) {
	if status >= 200 || status == http.StatusSwitchingProtocols {
		w.wrote = true
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *watchWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriterWrapper.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *watchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriterWrapper }

// Interface guards.
var (
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

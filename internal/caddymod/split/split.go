// Package split is the Caddy HTTP handler module http.handlers.gateway_split: it sends
// each request down one of several weighted branches of handlers, as the Gateway API
// needs when backendRefs carry their own filters (the filters of a backend run only for
// the requests that backend receives). Core Caddy chooses an upstream inside
// reverse_proxy, after every handler has run, so it cannot do this.
//
// Branches are chosen by smooth weighted round robin (package wrr): over any run of
// requests as long as the sum of the weights, each branch gets exactly its weight, the
// branches interleaved, and configs loaded one after another with the same key and
// weights continue the same sequence. The package chooses and delegates; it must not
// grow proxying or retry logic of its own.
package split

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-gateway/operator/internal/caddymod/wrr"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler runs the routes of one branch per request.
type Handler struct {
	// Key names the split: configs loaded one after another continue the same
	// sequence of choices when they give the same key and weights. Empty keeps the
	// sequence to this instance.
	Key string `json:"key,omitempty"`
	// Branches are chosen in proportion to their weights.
	Branches []Branch `json:"branches,omitempty"`

	picker *wrr.Picker
}

// Branch is one weighted choice.
type Branch struct {
	// Weight is the branch's relative share of requests, > 0.
	Weight int `json:"weight"`
	// Routes run for the requests of this branch, like a subroute's.
	Routes caddyhttp.RouteList `json:"routes,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gateway_split",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the handlers of every branch and joins the state of the key's split.
func (h *Handler) Provision(ctx caddy.Context) error {
	if err := h.Validate(); err != nil {
		return err
	}
	weights := make([]int, len(h.Branches))
	for i := range h.Branches {
		if err := h.Branches[i].Routes.Provision(ctx); err != nil {
			return fmt.Errorf("branches[%d]: %w", i, err)
		}
		weights[i] = h.Branches[i].Weight
	}
	p, err := wrr.Acquire(h.Key, weights)
	if err != nil {
		return fmt.Errorf("branches: %w", err)
	}
	h.picker = p
	return nil
}

// Cleanup leaves the state of the key's split.
func (h *Handler) Cleanup() error { return h.picker.Release() }

// Validate checks the configuration.
func (h *Handler) Validate() error {
	if len(h.Branches) == 0 {
		return fmt.Errorf("branches: at least one is needed")
	}
	for i, b := range h.Branches {
		if b.Weight <= 0 {
			return fmt.Errorf("branches[%d]: weight %d must be positive", i, b.Weight)
		}
	}
	return nil
}

// ServeHTTP runs the chosen branch's routes, then next.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return h.Branches[h.picker.Next(nil)].Routes.Compile(next).ServeHTTP(w, r)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

// Package split is the Caddy HTTP handler module http.handlers.gateway_split: it sends
// each request down one of several weighted branches of handlers, as the Gateway API
// needs when backendRefs carry their own filters (the filters of a backend run only for
// the requests that backend receives). Core Caddy chooses an upstream inside
// reverse_proxy, after every handler has run, so it cannot do this.
//
// Branches are chosen by weighted round robin, deterministically: over any run of
// requests as long as the sum of the weights, each branch gets exactly its weight. The
// package chooses and delegates; it must not grow proxying or retry logic of its own.
package split

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler runs the routes of one branch per request.
type Handler struct {
	// Branches are chosen in proportion to their weights.
	Branches []Branch `json:"branches,omitempty"`

	// total is the sum of the weights; next counts the requests served.
	total uint64
	next  *atomic.Uint64
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

// Provision loads the handlers of every branch.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.total, h.next = 0, new(atomic.Uint64)
	for i := range h.Branches {
		if err := h.Branches[i].Routes.Provision(ctx); err != nil {
			return fmt.Errorf("branches[%d]: %w", i, err)
		}
		if w := h.Branches[i].Weight; w > 0 {
			h.total += uint64(w)
		}
	}
	return nil
}

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
	return h.Branches[h.choose()].Routes.Compile(next).ServeHTTP(w, r)
}

// choose returns the index of the branch for the next request: the request counter,
// modulo the total weight, falls into one branch's run of weight slots.
func (h *Handler) choose() int {
	slot := (h.next.Add(1) - 1) % h.total
	for i, b := range h.Branches {
		if slot < uint64(b.Weight) {
			return i
		}
		slot -= uint64(b.Weight)
	}
	return len(h.Branches) - 1
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

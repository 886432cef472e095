// Package routetable is the Caddy HTTP handler module http.handlers.gateway_routes and
// the admin API module admin.api.gateway_routes: the routes of a listener are a table
// of host groups held by the Caddy process apart from its config, changed through the
// admin API without a config reload, and served by host lookup instead of a scan.
//
// Each host table is provisioned in its own Caddy context (a generation). A change
// provisions the new generations of every live handler before it swaps any, and a
// replaced generation is cleaned up only when no request runs on it any more, so a
// WebSocket or a download keeps its proxy across changes and config reloads. The
// package serves and stores route tables; it must not decide what they hold.
package routetable

import (
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

func init() {
	caddy.RegisterModule(Handler{})
	caddy.RegisterModule(Admin{})
}

// Handler serves requests from the host tables of one route table (caddyjson.RouteTable).
type Handler struct {
	// Table names the route table.
	Table string `json:"table"`

	ctx caddy.Context
	// snap is swapped under the registry's lock.
	snap *atomic.Pointer[snapshot]
	// gone is set when the handler's config is unloaded: a request still arriving on one
	// of its connections is served by the table's live handler.
	gone *atomic.Bool
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers." + caddyjson.RouteTableHandler,
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision builds the handler's host tables from those the process holds.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.Table == "" {
		return errors.New("table: empty")
	}
	h.ctx = ctx
	h.snap, h.gone = new(atomic.Pointer[snapshot]), new(atomic.Bool)
	return reg.register(h)
}

// Cleanup stops the handler from receiving changes; its generations are cleaned up
// when the requests running on them end.
func (h *Handler) Cleanup() error {
	reg.unregister(h)
	return nil
}

// ServeHTTP tries the request's host groups in order; a group none of whose routes
// handles the request falls through to the next, and nothing handled answers 404.
// The request runs on the generations of the snapshot it started with.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.gone.Load() {
		if live := reg.successor(h); live != nil {
			return live.ServeHTTP(w, r, next)
		}
	}
	var buf [8]*generation
	gens := h.acquire(buf[:0], requestHost(r))
	defer func() {
		for _, g := range gens {
			g.release()
		}
	}()
	for _, g := range gens {
		err := g.routes.ServeHTTP(w, r)
		if !errors.Is(err, errMiss) {
			return err
		}
	}
	w.WriteHeader(http.StatusNotFound)
	return nil
}

// acquire returns the groups of host in the current snapshot, each acquired; a
// generation retired meanwhile makes it start again with the newer snapshot.
func (h *Handler) acquire(dst []*generation, host string) []*generation {
	for {
		gens := h.snap.Load().groups(dst, host)
		n := 0
		for n < len(gens) && gens[n].acquire() {
			n++
		}
		if n == len(gens) {
			return gens
		}
		for _, g := range gens[:n] {
			g.release()
		}
	}
}

// swap serves the generations of fresh made for h in place of those of their hosts,
// and no longer the hosts of drop. Generations no longer served are retired after the
// new snapshot is in place.
func (h *Handler) swap(c *tableChange, fresh map[newGen]*generation) {
	set := make(map[string]*generation, len(c.set))
	for _, host := range c.set {
		set[host] = fresh[newGen{h, host}]
	}
	next, gone := h.snap.Load().with(set, c.drop)
	h.snap.Store(next)
	for _, g := range gone {
		g.retire()
	}
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

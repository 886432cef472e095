package routetable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// errMiss is what the end of a host table's routes returns: no route of the group
// handled the request, so the next group is tried.
var errMiss = errors.New("gateway_routes: no route of the host table handled the request")

// miss ends every compiled host table.
var miss = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errMiss })

// generation is one provisioned host table: its routes compiled in their own Caddy
// context, which is cancelled (cleaning up the routes' modules) once the generation is
// retired and no request runs on it any more.
type generation struct {
	routes caddyhttp.Handler
	cancel context.CancelFunc
	// inflight counts the requests running on the generation.
	inflight atomic.Int64
	retired  atomic.Bool
	cleaned  atomic.Bool
}

// provision decodes raw as a caddyhttp.RouteList and provisions it in a new context
// under parent. The context does not end with parent's: a generation ends when it is
// retired and drained, so that requests still running on it after a config unload (a
// WebSocket, a long download) keep their handlers.
func provision(parent caddy.Context, raw json.RawMessage) (*generation, error) {
	var routes caddyhttp.RouteList
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&routes); err != nil {
		return nil, fmt.Errorf("decoding routes: %w", err)
	}
	base := parent
	if base.Context == nil {
		base.Context = context.Background()
	}
	base.Context = context.WithoutCancel(base.Context)
	ctx, cancel := caddy.NewContext(base)
	if err := routes.Provision(ctx); err != nil {
		cancel()
		return nil, err
	}
	return &generation{routes: routes.Compile(miss), cancel: cancel}, nil
}

// acquire counts a request on g; false when g is retired, and then the request must
// take the generation of a newer snapshot. The retired flag is read after the
// increment, so a retire that saw no request cannot miss this one.
func (g *generation) acquire() bool {
	g.inflight.Add(1)
	if g.retired.Load() {
		g.release()
		return false
	}
	return true
}

// release ends a request on g, cleaning g up when it was the last on a retired g.
func (g *generation) release() {
	if g.inflight.Add(-1) == 0 && g.retired.Load() {
		g.cleanup()
	}
}

// retire marks g as replaced: it is cleaned up now if no request runs on it, else when
// the last one ends.
func (g *generation) retire() {
	g.retired.Store(true)
	if g.inflight.Load() == 0 {
		g.cleanup()
	}
}

// cleanup cancels g's context, once.
func (g *generation) cleanup() {
	if g.cleaned.CompareAndSwap(false, true) {
		g.cancel()
	}
}

// Package drain is the Caddy event handler events.handlers.gateway_drain. Subscribed to
// Caddy's "stopping" event, which Caddy emits before it stops any app, it holds a stop
// after which no config runs (the process exiting on SIGTERM) for Delay: every listener keeps
// accepting meanwhile, the layer4 app's TCP and UDP ones too (they close the moment their
// app stops), so that kube-proxy and load balancers stop sending new connections to the
// terminating pod before it refuses them. A config reload also emits "stopping", for the
// config it replaces: that stop is not held, so a reload that removes a listener is not
// slowed down.
package drain

import (
	"context"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler holds a stop after which no config runs for Delay.
type Handler struct {
	// Delay is how long the stop is held; it must be positive.
	Delay caddy.Duration `json:"delay"`

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "events.handlers.gateway_drain",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision sets the logger.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	return nil
}

// Validate rejects a missing or negative delay.
func (h *Handler) Validate() error {
	if h.Delay <= 0 {
		return fmt.Errorf("gateway_drain: delay must be positive, got %s", time.Duration(h.Delay))
	}
	return nil
}

// Handle holds a "stopping" event for Delay, or until ctx is done, when no config runs
// after the stop: the process exiting, or the admin API's /stop. When another config runs
// already (a reload replacing this one), it returns at once.
func (h *Handler) Handle(ctx context.Context, e caddy.Event) error {
	if e.Name() != "stopping" || caddy.ActiveContext().Context != nil {
		return nil
	}
	h.logger.Info("stopping: listeners keep accepting while the pod is taken out of rotation",
		zap.Duration("delay", time.Duration(h.Delay)))
	t := time.NewTimer(time.Duration(h.Delay))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner   = (*Handler)(nil)
	_ caddy.Validator     = (*Handler)(nil)
	_ caddyevents.Handler = (*Handler)(nil)
)

// Package l4smooth is the caddy-l4 proxy selection policy module
// layer4.proxy.selection_policies.gateway_smooth: weighted round robin that interleaves
// the upstreams (nginx's smooth algorithm, package wrr) and continues across config
// reloads for the same key. caddy-l4's weighted_round_robin keeps its counters in the
// module instance, so every config load starts it again: on a Gateway whose config is
// pushed between every few connections, the first upstream gets them all. The package
// selects an upstream; it must not dial, proxy or retry.
package l4smooth

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"github.com/mholt/caddy-l4/modules/l4proxy"

	"github.com/caddy-gateway/operator/internal/caddymod/wrr"
)

func init() {
	caddy.RegisterModule(Selection{})
}

// Selection selects upstreams in proportion to their weights. The upstreams' own
// weight field is not read (caddy-l4 counts 0 there as 1): Weights are.
type Selection struct {
	wrr.Policy
}

// CaddyModule returns the Caddy module information.
func (Selection) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "layer4.proxy.selection_policies.gateway_smooth",
		New: func() caddy.Module { return new(Selection) },
	}
}

// Select returns the next upstream, or nil when the pool has none of positive weight.
// caddy-l4 keeps an upstream's availability (health, max_connections) unexported, so
// every upstream in the pool counts as available: the operator's configs set neither
// health checks nor connection limits, and a connection whose upstream cannot be dialled
// is closed, which is the share of connections a failing backend is due.
func (s *Selection) Select(pool l4proxy.UpstreamPool, _ *layer4.Connection) *l4proxy.Upstream {
	i := s.Next(func(i int) bool { return i < len(pool) })
	if i < 0 {
		return nil
	}
	return pool[i]
}

// Interface guards.
var (
	_ caddy.Provisioner  = (*Selection)(nil)
	_ caddy.Validator    = (*Selection)(nil)
	_ caddy.CleanerUpper = (*Selection)(nil)
	_ l4proxy.Selector   = (*Selection)(nil)
)

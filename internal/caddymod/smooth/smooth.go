// Package smooth is the Caddy reverse_proxy selection policy module
// http.reverse_proxy.selection_policies.gateway_smooth: weighted round robin that
// interleaves the upstreams (nginx's smooth algorithm, package wrr) and continues
// across config reloads for the same key. Caddy's weighted_round_robin sends weight
// consecutive requests to each upstream in turn and starts again with every config
// load, so on a Gateway whose routes change often the small share of a split may get
// nothing. The package selects an upstream; it must not proxy or retry.
package smooth

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-gateway/operator/internal/caddymod/wrr"
)

func init() {
	caddy.RegisterModule(Selection{})
}

// Selection selects upstreams in proportion to their weights.
type Selection struct {
	wrr.Policy
}

// CaddyModule returns the Caddy module information.
func (Selection) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.selection_policies.gateway_smooth",
		New: func() caddy.Module { return new(Selection) },
	}
}

// Select returns the next available upstream, or nil when none is. As with
// weighted_round_robin, an unavailable upstream's share goes to the available ones.
func (s *Selection) Select(pool reverseproxy.UpstreamPool, _ *http.Request, _ http.ResponseWriter) *reverseproxy.Upstream {
	i := s.Next(func(i int) bool { return i < len(pool) && pool[i].Available() })
	if i < 0 {
		return nil
	}
	return pool[i]
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*Selection)(nil)
	_ caddy.Validator       = (*Selection)(nil)
	_ caddy.CleanerUpper    = (*Selection)(nil)
	_ reverseproxy.Selector = (*Selection)(nil)
)

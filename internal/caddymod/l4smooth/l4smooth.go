// Package l4smooth is the caddy-l4 proxy selection policy module
// layer4.proxy.selection_policies.gateway_smooth: weighted round robin that interleaves
// the upstreams (nginx's smooth algorithm, package wrr) and continues across config
// reloads for the same key. caddy-l4's weighted_round_robin keeps its counters in the
// module instance, so every config load starts it again: on a Gateway whose config is
// pushed between every few connections, the first upstream gets them all.
//
// The module also cuts the connections (UDP sessions) it selected a backend for once no
// running config has that backend among its rule's valid backends: caddy-l4 leaves an
// old config's connections open, so without it a deleted route, a backend removed from
// a rule or a revoked ReferenceGrant would keep serving the connections already open.
// Connections whose rule and backend stay, whatever their weights, stay open. And it
// receives the reports of UDP sessions it selected for that end after a config load
// stopped their server loop, which caddy-l4 leaves blocked forever (udploops.go). The
// package selects an upstream and closes what it selected; it must not dial, proxy or
// retry.
package l4smooth

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"github.com/mholt/caddy-l4/modules/l4proxy"

	"github.com/caddy-gateway/operator/internal/caddymod/wrr"
)

func init() {
	caddy.RegisterModule(Selection{})
}

// Selection selects upstreams in proportion to their weights. The upstreams' own
// weight field is not read (caddy-l4 counts 0 there as 1): Weights are. A non-empty Key
// is "<kind> <rule> <backend>..." with one backend per weight, its address or
// "invalid" (emit's l4SplitKey): a connection is cut when no running config has its
// backend in its rule.
type Selection struct {
	wrr.Policy

	// backendKeys and backends are the upstreams' entries in backends, by index (""
	// and nil for an invalid backend, whose connections are not tracked).
	backendKeys []string
	backends    []*backendConns
}

// CaddyModule returns the Caddy module information.
func (Selection) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "layer4.proxy.selection_policies.gateway_smooth",
		New: func() caddy.Module { return new(Selection) },
	}
}

// Provision joins the state of the key's split and the entries of its valid backends.
func (s *Selection) Provision(ctx caddy.Context) error {
	keys, err := backendKeys(s.Key, len(s.Weights))
	if err != nil {
		return err
	}
	if err := s.Policy.Provision(ctx); err != nil {
		return err
	}
	bs, err := acquireBackends(keys)
	if err != nil {
		_ = s.Policy.Cleanup()
		return fmt.Errorf("tracking connections: %w", err)
	}
	s.backendKeys, s.backends = keys, bs
	return nil
}

// Validate checks the weights and the shape of the key.
func (s *Selection) Validate() error {
	if err := s.Policy.Validate(); err != nil {
		return err
	}
	_, err := backendKeys(s.Key, len(s.Weights))
	return err
}

// Cleanup leaves the state of the key's split and the entries of its backends: those
// the config that replaces this one does not provision cut their connections. The UDP
// sockets of the config it belonged to are closed by then: their loops' reports are
// drained from now on.
func (s *Selection) Cleanup() error {
	releaseBackends(s.backendKeys)
	drainStoppedLoops()
	return s.Policy.Cleanup()
}

// Select returns the next upstream, or nil when the pool has none of positive weight.
// caddy-l4 keeps an upstream's availability (health, max_connections) unexported, so
// every upstream in the pool counts as available: the operator's configs set neither
// health checks nor connection limits, and a connection whose upstream cannot be dialled
// is closed, which is the share of connections a failing backend is due.
//
// The connection is tracked as proxied to the upstream's backend, so that it is cut when
// the backend leaves its rule.
func (s *Selection) Select(pool l4proxy.UpstreamPool, down *layer4.Connection) *l4proxy.Upstream {
	if down != nil {
		watchSession(down.Conn)
	}
	i := s.Next(func(i int) bool { return i < len(pool) })
	if i < 0 {
		return nil
	}
	if down != nil && i < len(s.backends) && s.backends[i] != nil {
		s.backends[i].track(down, down.Conn)
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

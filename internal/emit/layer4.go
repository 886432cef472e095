package emit

import (
	"fmt"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// weightedRoundRobin is caddy-l4's smooth weighted round robin over the upstreams'
// weights (the share of connections each backend gets).
const weightedRoundRobin = "weighted_round_robin"

// layer4App serves the TCP listeners: one layer4 server per port, whose one route
// proxies every connection to the weighted backends, or closes it when there are none.
func (e *emitter) layer4App(servers []ir.TCPServer) (*caddyjson.Layer4App, error) {
	app := &caddyjson.Layer4App{Servers: make(map[string]*caddyjson.Layer4Server, len(servers))}
	for i := range servers {
		s := &servers[i]
		if err := e.opts.checkListenerPort(s.Port); err != nil {
			return nil, err
		}
		app.Servers[fmt.Sprintf("port-%d", s.Port)] = &caddyjson.Layer4Server{
			Listen: e.listen(s.Port),
			Routes: []caddyjson.Layer4Route{{Handle: []caddyjson.Layer4Handler{e.tcpHandler(s.Backends)}}},
		}
	}
	return app, nil
}

// tcpHandler proxies to backends by weight. Invalid backends dial the refused backend,
// so that their share of connections is closed rather than sent to the others.
func (e *emitter) tcpHandler(backends []ir.Backend) caddyjson.Layer4Handler {
	if len(backends) == 0 {
		return caddyjson.Layer4Handler{Handler: "close"}
	}
	h := caddyjson.Layer4Handler{Handler: "proxy", Upstreams: make([]caddyjson.Layer4Upstream, len(backends)),
		LoadBalancing: &caddyjson.Layer4LoadBalancing{Selection: &caddyjson.Layer4Selection{Policy: weightedRoundRobin}}}
	for i, b := range backends {
		addr := b.Address
		if b.Invalid {
			addr = e.opts.RefusedBackend
		}
		h.Upstreams[i] = caddyjson.Layer4Upstream{Dial: []string{addr}, Weight: int(b.Weight)}
	}
	return h
}

package emit

import (
	"fmt"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// gatewaySmooth is the operator's layer4 selection policy (internal/caddymod/l4smooth):
// smooth weighted round robin over the weights it is given (the share of connections
// each backend gets), whose sequence continues across config loads for the same key.
// caddy-l4's own weighted_round_robin starts again with every load, so under frequent
// pushes the first backend got every connection.
const gatewaySmooth = "gateway_smooth"

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
			Routes: []caddyjson.Layer4Route{{Handle: []caddyjson.Layer4Handler{
				e.tcpHandler(s.Backends, l4SplitKey("TCPRoute", s.Route, s.Backends))}}},
		}
	}
	return app, nil
}

// tcpHandler proxies to backends by weight, the selection keyed by key (l4SplitKey).
// Invalid backends dial the refused backend, so that their share of connections is
// closed rather than sent to the others.
func (e *emitter) tcpHandler(backends []ir.Backend, key string) caddyjson.Layer4Handler {
	if len(backends) == 0 {
		return caddyjson.Layer4Handler{Handler: "close"}
	}
	h := caddyjson.Layer4Handler{Handler: "proxy", Upstreams: make([]caddyjson.Layer4Upstream, len(backends)),
		LoadBalancing: &caddyjson.Layer4LoadBalancing{Selection: &caddyjson.Layer4Selection{
			Policy: gatewaySmooth, Key: key, Weights: weights(backends)}}}
	for i, b := range backends {
		addr := b.Address
		if b.Invalid {
			addr = e.opts.RefusedBackend
		}
		h.Upstreams[i] = caddyjson.Layer4Upstream{Dial: []string{addr}, Weight: int(b.Weight)}
	}
	return h
}

// l4SplitKey names the weighted split of a layer4 route's rule for the state of its
// round robin: the route kind, the rule ("<namespace>/<name>/rule/<index>") and the
// backends' addresses ("invalid" for an invalid one), so that the sequence continues
// while the rest of the Gateway changes, a rule with other backends starts afresh (the
// module adds the weights), and routes of different kinds never share one. A rule
// without a name gets "", a state of its own per config.
func l4SplitKey(kind, rule string, backends []ir.Backend) string {
	if rule == "" {
		return ""
	}
	k := append(append(append(make([]byte, 0, 64), kind...), ' '), rule...)
	for i := range backends {
		if backends[i].Invalid {
			k = append(k, " invalid"...)
			continue
		}
		k = append(append(k, ' '), backends[i].Address...)
	}
	return string(k)
}

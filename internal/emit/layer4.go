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

// layer4Network is what differs between the layer4 servers of TCP and UDP listeners.
type layer4Network struct {
	// name prefixes the server names ("port-<n>" for TCP, which came first).
	name string
	// prefix is the network of listen and dial addresses ("udp/"; "" is TCP).
	prefix string
	// kind is the route kind the servers serve, which keys their selection (l4SplitKey).
	kind string
}

var (
	tcpNetwork = layer4Network{kind: "TCPRoute"}
	udpNetwork = layer4Network{name: "udp-", prefix: "udp/", kind: "UDPRoute"}
)

// layer4App serves the TCP and UDP listeners: one layer4 server per port and network,
// whose one route proxies every connection (UDP session) to the weighted backends, or
// closes it when there are none.
func (e *emitter) layer4App(tcp, udp []ir.Layer4Server) (*caddyjson.Layer4App, error) {
	app := &caddyjson.Layer4App{Servers: make(map[string]*caddyjson.Layer4Server, len(tcp)+len(udp))}
	for _, n := range []struct {
		servers []ir.Layer4Server
		net     layer4Network
	}{{tcp, tcpNetwork}, {udp, udpNetwork}} {
		for i := range n.servers {
			if err := e.layer4Server(app, &n.servers[i], n.net); err != nil {
				return nil, err
			}
		}
	}
	return app, nil
}

// layer4Server adds the server of s on network n to app.
func (e *emitter) layer4Server(app *caddyjson.Layer4App, s *ir.Layer4Server, n layer4Network) error {
	if err := e.opts.checkListenerPort(s.Port); err != nil {
		return err
	}
	srv := &caddyjson.Layer4Server{
		Listen: e.listen(s.Port),
		Routes: []caddyjson.Layer4Route{{Handle: []caddyjson.Layer4Handler{e.tcpHandler(s.Backends, n.prefix, l4SplitKey(n.kind, s.Route, s.Backends))}}},
	}
	if n == udpNetwork {
		srv.Listen[0] = n.prefix + srv.Listen[0]
		if d := e.opts.Servers.UDPIdleTimeout; d != nil && *d > 0 {
			srv.IdleTimeout = d.String()
		}
	}
	app.Servers[fmt.Sprintf("%sport-%d", n.name, s.Port)] = srv
	return nil
}

// tcpHandler proxies to backends by weight, dialling them on the network of dial
// ("udp/"; "" is TCP), the selection keyed by key (l4SplitKey). Invalid backends dial the
// refused backend, so that their share of connections is closed (of datagrams dropped)
// rather than sent to the others. Backends with TLS (of terminating TLS routes) are
// spoken to over TLS.
func (e *emitter) tcpHandler(backends []ir.Backend, dial, key string) caddyjson.Layer4Handler {
	if len(backends) == 0 {
		return caddyjson.Layer4Handler{Handler: "close"}
	}
	h := caddyjson.Layer4Handler{Handler: "proxy", Upstreams: make([]caddyjson.Layer4Upstream, len(backends)),
		LoadBalancing: &caddyjson.Layer4LoadBalancing{Selection: &caddyjson.Layer4Selection{
			Policy: gatewaySmooth, Key: key, Weights: weights(backends)}}}
	for i, b := range backends {
		addr := dial + b.Address
		if b.Invalid {
			addr = e.opts.RefusedBackend
		}
		h.Upstreams[i] = caddyjson.Layer4Upstream{Dial: []string{addr}, Weight: int(b.Weight), TLS: layer4TLS(backendTLS(&b))}
	}
	return h
}

// l4SplitKey names the weighted split of a layer4 route's rule for the state of its
// round robin: the route kind, the rule ("<namespace>/<name>/rule/<index>") and the
// backends' addresses ("invalid" for an invalid one), so that the sequence continues
// while the rest of the Gateway changes, a rule with other backends starts afresh (the
// module adds the weights), and routes of different kinds never share one. A rule
// without a name gets "", a state of its own per config. The module also reads the key
// as one backend per upstream, and closes a connection once no running config has its
// backend in its rule: keep that shape (internal/caddymod/l4smooth).
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

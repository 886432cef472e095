package emit

import (
	"fmt"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// weightedRoundRobin is caddy-l4's smooth weighted round robin over the upstreams'
// weights (the share of connections each backend gets).
const weightedRoundRobin = "weighted_round_robin"

// layer4Network is what differs between the layer4 servers of TCP and UDP listeners.
type layer4Network struct {
	// name prefixes the server names ("port-<n>" for TCP, which came first).
	name string
	// prefix is the network of listen and dial addresses ("udp/"; "" is TCP).
	prefix string
}

var (
	tcpNetwork = layer4Network{}
	udpNetwork = layer4Network{name: "udp-", prefix: "udp/"}
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
		Routes: []caddyjson.Layer4Route{{Handle: []caddyjson.Layer4Handler{e.tcpHandler(s.Backends, n.prefix)}}},
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
// ("udp/"; "" is TCP). Invalid backends dial the refused backend, so that their share
// of connections is closed (of datagrams dropped) rather than sent to the others.
func (e *emitter) tcpHandler(backends []ir.Backend, dial string) caddyjson.Layer4Handler {
	if len(backends) == 0 {
		return caddyjson.Layer4Handler{Handler: "close"}
	}
	h := caddyjson.Layer4Handler{Handler: "proxy", Upstreams: make([]caddyjson.Layer4Upstream, len(backends)),
		LoadBalancing: &caddyjson.Layer4LoadBalancing{Selection: &caddyjson.Layer4Selection{Policy: weightedRoundRobin}}}
	for i, b := range backends {
		addr := dial + b.Address
		if b.Invalid {
			addr = e.opts.RefusedBackend
		}
		h.Upstreams[i] = caddyjson.Layer4Upstream{Dial: []string{addr}, Weight: int(b.Weight)}
	}
	return h
}

package caddyjson

// Layer4App is caddy-l4's layer4.App: servers of raw TCP (and UDP) connections.
type Layer4App struct {
	// Servers by name.
	Servers map[string]*Layer4Server `json:"servers,omitempty"`
}

// Layer4Server is layer4.Server.
type Layer4Server struct {
	// Listen addresses, e.g. "tcp/:9000"; a bare ":9000" is TCP.
	Listen []string `json:"listen,omitempty"`
	// IdleTimeout ends a UDP session (the datagrams of one client address and port)
	// after this long without a datagram, e.g. "30s"; caddy-l4's default (30s) when
	// empty. Ignored for TCP.
	IdleTimeout string `json:"idle_timeout,omitempty"`
	// Routes are tried in order; a connection no route handles is closed.
	Routes []Layer4Route `json:"routes,omitempty"`
}

// Layer4Route is layer4.Route. Without matchers it takes every connection.
type Layer4Route struct {
	// Match are the route's matcher sets, OR-ed; a connection no set matches goes on to
	// the next route.
	Match []Layer4MatcherSet `json:"match,omitempty"`
	// Handle is the handler chain, in order.
	Handle []Layer4Handler `json:"handle"`
}

// Layer4MatcherSet is one set of layer4.matchers modules, AND-ed.
type Layer4MatcherSet struct {
	// TLS is the "tls" matcher (l4tls.MatchTLS): the connection begins with a TLS
	// ClientHello that all its handshake matchers (tls.handshake_match modules) match;
	// without any it matches every ClientHello.
	TLS *TLSMatch `json:"tls,omitempty"`
	// Not is the "not" matcher (layer4.MatchNot): no set of it matches.
	Not []Layer4MatcherSet `json:"not,omitempty"`
}

// Layer4Handler is a layer4.handlers module: "proxy" (l4proxy.Handler), "tls"
// (l4tls.Handler), which terminates TLS and hands the decrypted stream to the next
// handler, or "close" (l4close.Close), which closes the connection.
type Layer4Handler struct {
	Handler string `json:"handler"`
	// Upstreams are the proxy's upstreams.
	Upstreams []Layer4Upstream `json:"upstreams,omitempty"`
	// LoadBalancing chooses an upstream per connection; nil picks at random.
	LoadBalancing *Layer4LoadBalancing `json:"load_balancing,omitempty"`
	// ConnectionPolicies are the "tls" handler's policies; the first whose matchers
	// match the ClientHello terminates the connection.
	ConnectionPolicies []TLSConnectionPolicy `json:"connection_policies,omitempty"`
}

// Layer4Upstream is l4proxy.Upstream.
type Layer4Upstream struct {
	// Dial are the addresses to connect to, each "host:port" or "unix/path"; one
	// connection is made to each.
	Dial []string `json:"dial"`
	// Weight is the upstream's share under weighted_round_robin; 0 counts as 1.
	Weight int `json:"weight,omitempty"`
	// TLS, when set, speaks TLS to the upstream (reverseproxy.TLSConfig).
	TLS *Layer4UpstreamTLS `json:"tls,omitempty"`
}

// Layer4UpstreamTLS is the subset of reverseproxy.TLSConfig a layer4 upstream's TLS
// uses: Go's verification of the chain and ServerName, never skipped.
type Layer4UpstreamTLS struct {
	// CA is the pool of trusted roots; nil trusts the system's.
	CA *InlineCAPool `json:"ca,omitempty"`
	// ServerName is sent as SNI and verified against the certificate.
	ServerName string `json:"server_name"`
	// HandshakeTimeout bounds the handshake (duration string).
	HandshakeTimeout string `json:"handshake_timeout,omitempty"`
}

// InlineCAPool is caddytls.InlineCAPool ("provider": "inline").
type InlineCAPool struct {
	Provider string `json:"provider"`
	// TrustedCACerts are base64 DER CA certificates.
	TrustedCACerts []string `json:"trusted_ca_certs"`
}

// Layer4LoadBalancing is l4proxy.LoadBalancing. Without try_duration a connection
// whose upstream cannot be dialled is closed, not retried elsewhere.
type Layer4LoadBalancing struct {
	// Selection is the selection policy module.
	Selection *Layer4Selection `json:"selection,omitempty"`
}

// Layer4Selection is a layer4.proxy.selection_policies module, e.g. "weighted_round_robin"
// (smooth weighted round robin over the upstreams' Weight, started again by every config
// load) or the operator's "gateway_smooth" (internal/caddymod/l4smooth), which reads Key
// and Weights.
type Layer4Selection struct {
	Policy string `json:"policy"`
	// Key names the split for "gateway_smooth": configs with the same key and weights
	// continue one sequence of picks across reloads.
	Key string `json:"key,omitempty"`
	// Weights are the upstreams' shares for "gateway_smooth", in the order of the
	// upstreams.
	Weights []int `json:"weights,omitempty"`
}

func (w *writer) layer4App(a *Layer4App) {
	w.open()
	if len(a.Servers) > 0 {
		w.key("servers")
		writeMap(w, a.Servers, w.layer4Server)
	}
	w.close()
}

func (w *writer) layer4Server(s *Layer4Server) {
	if s == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open()
	w.optStrs("listen", s.Listen)
	w.optStr("idle_timeout", s.IdleTimeout)
	if len(s.Routes) > 0 {
		w.key("routes")
		writeList(w, s.Routes, w.layer4Route)
	}
	w.close()
}

func (w *writer) layer4Route(r *Layer4Route) {
	w.open()
	if len(r.Match) > 0 {
		w.key("match")
		writeList(w, r.Match, w.layer4MatcherSet)
	}
	w.key("handle")
	if r.Handle == nil {
		w.b = append(w.b, "null"...)
	} else {
		writeList(w, r.Handle, w.layer4Handler)
	}
	w.close()
}

func (w *writer) layer4MatcherSet(m *Layer4MatcherSet) {
	w.open()
	if m.TLS != nil {
		w.key("tls")
		w.tlsMatch(m.TLS)
	}
	if len(m.Not) > 0 {
		w.key("not")
		writeList(w, m.Not, w.layer4MatcherSet)
	}
	w.close()
}

func (w *writer) layer4Handler(h *Layer4Handler) {
	w.open()
	w.key("handler")
	w.str(h.Handler)
	if len(h.Upstreams) > 0 {
		w.key("upstreams")
		writeList(w, h.Upstreams, func(u *Layer4Upstream) {
			w.open()
			w.key("dial")
			w.strs(u.Dial)
			if u.Weight != 0 {
				w.key("weight")
				w.int(u.Weight)
			}
			if u.TLS != nil {
				w.key("tls")
				w.marshal(u.TLS)
			}
			w.close()
		})
	}
	if lb := h.LoadBalancing; lb != nil {
		w.key("load_balancing")
		w.open()
		if lb.Selection != nil {
			w.key("selection")
			w.open()
			w.key("policy")
			w.str(lb.Selection.Policy)
			w.optStr("key", lb.Selection.Key)
			if len(lb.Selection.Weights) > 0 {
				w.key("weights")
				writeList(w, lb.Selection.Weights, func(n *int) { w.int(*n) })
			}
			w.close()
		}
		w.close()
	}
	if len(h.ConnectionPolicies) > 0 {
		w.key("connection_policies")
		writeList(w, h.ConnectionPolicies, w.connectionPolicy)
	}
	w.close()
}

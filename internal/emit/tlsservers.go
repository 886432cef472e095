package emit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// tlsNetwork names the layer4 servers of TLS ports without HTTPS ("tls-port-<n>", apart
// from the TCP listeners' "port-<n>") and keys their selection.
var tlsNetwork = layer4Network{name: "tls-", kind: "TLSRoute"}

// tlsServers serves the TLS listener ports of g: a port without HTTPS gets a layer4
// server of its own in app, which closes a connection no route matches; on a port
// shared with HTTPS the routes go into a layer4 listener wrapper of that port's HTTP
// server (in http, by name), which hands every connection they do not match on to the
// server's own TLS.
func (e *emitter) tlsServers(g *ir.Gateway, app *caddyjson.Layer4App, http map[string]*caddyjson.Server) error {
	for i := range g.TLS {
		s := &g.TLS[i]
		if err := e.opts.checkListenerPort(s.Port); err != nil {
			return err
		}
		if i > 0 && g.TLS[i-1].Port == s.Port {
			return fmt.Errorf("TLS port %d: two TLS servers serve the port", s.Port)
		}
		routes, err := e.tlsRoutes(s, g.Certificates)
		if err != nil {
			return err
		}
		httpName := fmt.Sprintf("port-%d", s.Port)
		srv, shared := http[httpName]
		switch {
		case s.SharedWithHTTPS && (!shared || len(srv.TLSConnectionPolicies) == 0):
			return fmt.Errorf("TLS port %d: sharedWithHTTPS is set but no HTTPS listener serves the port", s.Port)
		case s.SharedWithHTTPS:
			withLayer4Wrapper(srv, routes)
		case shared:
			return fmt.Errorf("TLS port %d: HTTP listeners serve the port but sharedWithHTTPS is not set", s.Port)
		default:
			if _, ok := app.Servers[httpName]; ok {
				return fmt.Errorf("TLS port %d: a TCP listener serves the port", s.Port)
			}
			app.Servers[tlsNetwork.name+httpName] = &caddyjson.Layer4Server{Listen: e.listen(s.Port), Routes: routes}
		}
	}
	return nil
}

// withLayer4Wrapper puts a layer4 listener wrapper with routes in front of srv's TLS,
// after the PROXY protocol wrapper when there is one: the PROXY header comes first on
// the wire.
func withLayer4Wrapper(srv *caddyjson.Server, routes []caddyjson.Layer4Route) {
	l4 := caddyjson.ListenerWrapper{Wrapper: "layer4", Routes: routes}
	if len(srv.ListenerWrappers) == 0 {
		srv.ListenerWrappers = []caddyjson.ListenerWrapper{l4, {Wrapper: "tls"}}
		return
	}
	at := slices.IndexFunc(srv.ListenerWrappers, func(w caddyjson.ListenerWrapper) bool { return w.Wrapper == "tls" })
	srv.ListenerWrappers = slices.Insert(srv.ListenerWrappers, max(at, 0), l4)
}

// tlsRoutes renders the routes of s in order: each matches the ClientHellos whose
// server name its hostnames match and its exceptions do not, terminates TLS with its certificates when it has
// any, and proxies to its backends by weight.
func (e *emitter) tlsRoutes(s *ir.TLSServer, certs []ir.Certificate) ([]caddyjson.Layer4Route, error) {
	routes := make([]caddyjson.Layer4Route, 0, len(s.Routes))
	for i := range s.Routes {
		r := &s.Routes[i]
		for _, c := range r.Certificates {
			if !slices.ContainsFunc(certs, func(x ir.Certificate) bool { return x.Name == c }) {
				return nil, fmt.Errorf("TLS port %d route %q: certificate %q is not among the Gateway's certificates", s.Port, r.Route, c)
			}
		}
		proxy := e.tcpHandler(r.Backends, "", l4SplitKey(tlsNetwork.kind, r.Route, r.Backends))
		var handle []caddyjson.Layer4Handler
		if len(r.Certificates) > 0 && len(r.Backends) > 0 {
			handle = append(handle, e.terminate(r.Certificates))
		}
		match := caddyjson.Layer4MatcherSet{TLS: sniMatcher(r.Hostnames)}
		if len(r.Except) > 0 {
			match.Not = []caddyjson.Layer4MatcherSet{{TLS: sniMatcher(r.Except)}}
		}
		routes = append(routes, caddyjson.Layer4Route{Match: []caddyjson.Layer4MatcherSet{match}, Handle: append(handle, proxy)})
	}
	return routes, nil
}

// terminate is the layer4 tls handler presenting only the given certificates (by
// their tags in the tls app), whichever the client's server name: a route never shows
// another listener's certificate. The TLS version and cipher options of HTTPS
// listeners apply.
func (e *emitter) terminate(certs []string) caddyjson.Layer4Handler {
	p := caddyjson.TLSConnectionPolicy{CertificateSelection: &caddyjson.CertificateSelection{AnyTag: certs},
		CipherSuites: e.opts.Servers.CipherSuites}
	if v := e.opts.Servers.TLSMinVersion; v != "" {
		p.ProtocolMin = "tls" + v
	}
	return caddyjson.Layer4Handler{Handler: "tls", ConnectionPolicies: []caddyjson.TLSConnectionPolicy{p}}
}

// sniMatcher matches a ClientHello whose server name matches any of hosts, exact or
// "*.suffix" (one or more labels before the suffix), case-insensitively; no hosts
// match every ClientHello, with or without a server name. The pattern is a regexp,
// which Caddy's sni matcher (whose names expand placeholders, and whose "*" is one
// label) is not.
func sniMatcher(hosts []string) *caddyjson.TLSMatch {
	if len(hosts) == 0 {
		return &caddyjson.TLSMatch{}
	}
	alts := make([]string, len(hosts))
	for i, h := range hosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			alts[i] = `(?:[^.]+\.)+` + quoteSNI(suffix)
		} else {
			alts[i] = quoteSNI(h)
		}
	}
	return &caddyjson.TLSMatch{SNIRegexp: &caddyjson.Regexp{Pattern: `(?i)^(?:` + strings.Join(alts, "|") + `)$`}}
}

// quoteSNI quotes s for a regexp whose pattern Caddy passes through its placeholder
// replacer: braces are written as hex escapes, so no placeholder can be formed.
func quoteSNI(s string) string {
	return strings.NewReplacer(`\{`, `\x7b`, `\}`, `\x7d`).Replace(regexp.QuoteMeta(s))
}

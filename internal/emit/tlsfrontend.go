package emit

import (
	"regexp"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// sniPlaceholder is the TLS ServerName of the connection a request arrived on.
const sniPlaceholder = "{http.request.tls.server_name}"

// Client authentication modes of caddytls.ClientAuthentication.
const (
	// clientAuthRequireAndVerify refuses the handshake without a certificate that
	// verifies against the CA pool (AllowValidOnly).
	clientAuthRequireAndVerify = "require_and_verify"
	// clientAuthRequest asks for a certificate (the pool names acceptable CAs) but
	// accepts a connection without one or with one that does not verify
	// (AllowInsecureFallback: "accept connections even if the client certificate is
	// not presented or fails verification"; verify_if_given would refuse the latter).
	clientAuthRequest = "request"
)

// clientAuthentication renders a listener's client certificate validation.
func clientAuthentication(v *ir.ClientValidation) *caddyjson.ClientAuthentication {
	if v == nil {
		return nil
	}
	mode := clientAuthRequireAndVerify
	if v.Optional {
		mode = clientAuthRequest
	}
	return &caddyjson.ClientAuthentication{
		CA:   &caddyjson.CAPool{Provider: "inline", TrustedCACerts: v.TrustedCAs},
		Mode: mode,
	}
}

// strictSNIHost is the server's strict_sni_host. Caddy turns strict SNI/Host matching
// on by itself when a connection policy has client authentication; it then answers
// 421 for any Host differing from the SNI, wildcard listeners and clients without
// SNI included. misdirectGuard does the Gateway API's check instead, which also keeps
// a client from reaching a listener that validates certificates through a
// connection negotiated for one that does not.
func strictSNIHost(s *ir.HTTPServer) *bool {
	for i := range s.Listeners {
		if s.Listeners[i].ClientValidation != nil {
			strict := false
			return &strict
		}
	}
	return nil
}

// misdirectGuard wraps the handler of listener i (the first listener of a TLS port
// whose hostname matches the request's Host) so that it serves only requests whose
// connection was negotiated for that listener: the first listener matching the SNI,
// as the connection policies are in the same order. Any other request is misdirected
// (HTTP/2 connection reuse, or an SNI that does not match the Host): 421, as the
// Gateway API Listener hostname docs ask. Requests whose Host matches no listener
// never get here and are answered 404 by the server.
func misdirectGuard(s *ir.HTTPServer, i int, h caddyjson.Handler) caddyjson.Handler {
	if !s.TLS || len(s.Listeners) < 2 {
		return h
	}
	sub := caddyjson.Subroute{Handler: "subroute"}
	if i > 0 {
		hosts := make([]string, i)
		for j := range i {
			hosts[j] = s.Listeners[j].Hostname
		}
		sub.Routes = append(sub.Routes, caddyjson.Route{
			Match: sniMatch(hosts), Handle: []caddyjson.Handler{status(421)}, Terminal: true,
		})
	}
	l := &s.Listeners[i]
	if l.Hostname == "" {
		sub.Routes = append(sub.Routes, caddyjson.Route{Handle: []caddyjson.Handler{h}})
		return sub
	}
	sub.Routes = append(sub.Routes,
		caddyjson.Route{Match: sniMatch([]string{l.Hostname}), Handle: []caddyjson.Handler{h}, Terminal: true},
		caddyjson.Route{Handle: []caddyjson.Handler{status(421)}},
	)
	return sub
}

// sniMatch matches connections whose SNI matches any of the host patterns (exact
// or "*.suffix", never empty), case-insensitively.
func sniMatch(hosts []string) []caddyjson.MatcherSet {
	alts := make([]string, len(hosts))
	for i, h := range hosts {
		if suffix, ok := strings.CutPrefix(h, "*"); ok {
			alts[i] = `[^:/]+` + regexp.QuoteMeta(suffix)
		} else {
			alts[i] = regexp.QuoteMeta(h)
		}
	}
	return []caddyjson.MatcherSet{{VarsRegexp: caddyjson.RegexpMap{
		{Key: sniPlaceholder, Value: caddyjson.Regexp{Pattern: `(?i)^(?:` + strings.Join(alts, "|") + `)$`}},
	}}}
}

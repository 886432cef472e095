package emit

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// TLS to backends (ir.Backend.TLS) is spoken by our gateway_tls transport
// (internal/caddymod/backendtls), one per distinct TLS of the backends of a
// reverse_proxy: backends of one rule that differ in TLS get a branch each
// (appendForward). Its fields are never expanded as placeholders.

// checkBackendTLS refuses TLS the gateway_tls transport could not honour, naming the
// route, the backend and the field; it returns the client certificates by name. Layer-4
// backends cannot speak TLS to backends yet: one with TLS is refused rather than spoken
// to in the clear.
func checkBackendTLS(g *ir.Gateway) (map[string]*ir.Certificate, error) {
	certs := map[string]*ir.Certificate{}
	checked := map[*ir.BackendTLS]bool{}
	check := func(r *ir.Route, kind, addr string, t *ir.BackendTLS) error {
		if t == nil || checked[t] {
			return nil
		}
		if err := checkTLS(g, t, certs); err != nil {
			return fmt.Errorf("route %s %s %s: %w", routeName(r.Source), kind, addr, err)
		}
		checked[t] = true
		return nil
	}
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			for _, h := range g.HTTP[i].Listeners[j].Hosts {
				for k := range h.Routes {
					if err := checkRouteTLS(&h.Routes[k], check); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return certs, checkLayer4TLS(g)
}

// checkRouteTLS checks the TLS of the route's valid backends and of its mirrors.
func checkRouteTLS(r *ir.Route, check func(r *ir.Route, kind, addr string, t *ir.BackendTLS) error) error {
	mirrors := func(ms []ir.Mirror) error {
		for _, m := range ms {
			if err := check(r, "mirror", m.Address, m.TLS); err != nil {
				return err
			}
		}
		return nil
	}
	if err := mirrors(r.Action.Mirrors); err != nil {
		return err
	}
	for _, b := range r.Action.Backends {
		if b.Invalid {
			continue
		}
		if err := check(r, "backend", b.Address, b.TLS); err != nil {
			return err
		}
		if b.Filters != nil {
			if err := mirrors(b.Filters.Mirrors); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLayer4TLS refuses TLS on the backends of TCP and UDP routes and of TLS routes
// in passthrough (there is no TLS of the Gateway's to re-encrypt), and on those of
// terminating TLS routes what caddy-l4's proxy cannot do: verify subject alt names
// instead of the server name, or present an inline client certificate.
func checkLayer4TLS(g *ir.Gateway) error {
	for _, servers := range [][]ir.Layer4Server{g.TCP, g.UDP} {
		for _, s := range servers {
			for _, b := range s.Backends {
				if b.TLS != nil {
					return fmt.Errorf("layer4 port %d backend %s: tls to layer4 backends is not supported", s.Port, b.Address)
				}
			}
		}
	}
	for _, s := range g.TLS {
		for _, r := range s.Routes {
			for _, b := range r.Backends {
				if err := checkTLSRouteTLS(g, &r, &b); err != nil {
					return fmt.Errorf("TLS port %d route %q backend %s: %w", s.Port, r.Route, b.Address, err)
				}
			}
		}
	}
	return nil
}

// checkTLSRouteTLS checks the TLS of a TLS route's backend.
func checkTLSRouteTLS(g *ir.Gateway, r *ir.TLSRoute, b *ir.Backend) error {
	t := backendTLS(b)
	switch {
	case t == nil:
		return nil
	case len(r.Certificates) == 0:
		return fmt.Errorf("tls is set on a passthrough route")
	case len(t.SubjectAltNames) > 0:
		return fmt.Errorf("tls.subjectAltNames are not supported on TLSRoute backends")
	case t.ClientCertificate != "":
		return fmt.Errorf("tls.clientCertificate is not supported on TLSRoute backends")
	}
	return checkTLS(g, t, map[string]*ir.Certificate{})
}

// layer4TLS is t for a layer4 upstream: Go's verification of the chain (TrustedCAs as
// an inline pool, or the system's roots) and of ServerName.
func layer4TLS(t *ir.BackendTLS) *caddyjson.Layer4UpstreamTLS {
	if t == nil {
		return nil
	}
	u := &caddyjson.Layer4UpstreamTLS{ServerName: t.ServerName, HandshakeTimeout: backendHandshakeTimeout}
	if t.SystemCAs {
		return u
	}
	u.CA = &caddyjson.InlineCAPool{Provider: "inline"}
	for _, ca := range t.TrustedCAs {
		rest := []byte(ca)
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			// What x509.CertPool.AppendCertsFromPEM would take, and Caddy's pool too.
			if _, err := x509.ParseCertificate(b.Bytes); b.Type == "CERTIFICATE" && err == nil {
				u.CA.TrustedCACerts = append(u.CA.TrustedCACerts, base64.StdEncoding.EncodeToString(b.Bytes))
			}
		}
	}
	return u
}

// backendHandshakeTimeout bounds a TLS handshake with a layer4 backend, as the
// gateway_tls transport bounds its own (backendtls.HandshakeTimeout).
const backendHandshakeTimeout = "10s"

func routeName(s ir.Source) string {
	if s.Rule == nil {
		return `""`
	}
	return s.String()
}

// checkTLS checks one backend's TLS and adds its client certificate to certs.
func checkTLS(g *ir.Gateway, t *ir.BackendTLS, certs map[string]*ir.Certificate) error {
	switch {
	case t.ServerName == "":
		return fmt.Errorf("tls.serverName is empty")
	case t.SystemCAs && len(t.TrustedCAs) > 0:
		return fmt.Errorf("tls.trustedCAs and tls.systemCAs are both set")
	case !t.SystemCAs && len(t.TrustedCAs) == 0:
		return fmt.Errorf("tls.trustedCAs is empty and tls.systemCAs is not set")
	}
	for i, ca := range t.TrustedCAs {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
			return fmt.Errorf("tls.trustedCAs[%d] holds no PEM certificate", i)
		}
	}
	for i, s := range t.SubjectAltNames {
		if (s.Hostname == "") == (s.URI == "") {
			return fmt.Errorf("tls.subjectAltNames[%d] must set exactly one of hostname and uri", i)
		}
	}
	if name := t.ClientCertificate; name != "" && certs[name] == nil {
		i := slices.IndexFunc(g.Certificates, func(c ir.Certificate) bool { return c.Name == name })
		if i < 0 {
			return fmt.Errorf("tls.clientCertificate %q is not among the Gateway's certificates", name)
		}
		c := &g.Certificates[i]
		if _, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM)); err != nil {
			return fmt.Errorf("tls.clientCertificate %q: %w", name, err)
		}
		certs[name] = c
	}
	return nil
}

// servedCertificates are the Gateway certificates the tls app loads: those a listener or
// a TLS route serves. Others are only presented to backends, which the gateway_tls
// transports of the routes hold themselves (a client certificate need not carry a name,
// which the tls app requires); leaving them out whether or not a route presents them
// keeps the config independent of the routes.
func servedCertificates(g *ir.Gateway) []ir.Certificate {
	served := map[string]bool{}
	for _, s := range g.HTTP {
		for _, l := range s.Listeners {
			for _, c := range l.Certificates {
				served[c] = true
			}
		}
	}
	for _, s := range g.TLS {
		for _, r := range s.Routes {
			for _, c := range r.Certificates {
				served[c] = true
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(g.Certificates), func(c ir.Certificate) bool { return !served[c.Name] })
}

// backendTLS is the TLS a backend is spoken to with: none for an invalid one, which
// dials the 500 server.
func backendTLS(b *ir.Backend) *ir.BackendTLS {
	if b.Invalid {
		return nil
	}
	return b.TLS
}

// sameTLS reports whether every backend is spoken to with the same TLS (or none), so
// that one reverse_proxy with one transport serves them all.
func sameTLS(backends []ir.Backend) bool {
	for i := 1; i < len(backends); i++ {
		if !equalTLS(backendTLS(&backends[0]), backendTLS(&backends[i])) {
			return false
		}
	}
	return true
}

func equalTLS(x, y *ir.BackendTLS) bool {
	if x == y {
		return true
	}
	if x == nil || y == nil {
		return false
	}
	return x.ServerName == y.ServerName && x.SystemCAs == y.SystemCAs && x.ClientCertificate == y.ClientCertificate &&
		slices.Equal(x.TrustedCAs, y.TrustedCAs) && slices.Equal(x.SubjectAltNames, y.SubjectAltNames)
}

// tlsID numbers the distinct TLS settings (1, 2, ...; 0 for none) for the content keys
// of proxy actions, without writing certificates into every key.
func (e *emitter) tlsID(t *ir.BackendTLS) int {
	if t == nil {
		return 0
	}
	if id, ok := e.tlsIDs[t]; ok {
		return id
	}
	id := len(e.tlsDistinct) + 1
	for i, d := range e.tlsDistinct {
		if equalTLS(d, t) {
			id = i + 1
			break
		}
	}
	if id > len(e.tlsDistinct) {
		e.tlsDistinct = append(e.tlsDistinct, t)
	}
	e.tlsIDs[t] = id
	return id
}

// tlsTransport is the gateway_tls transport of t, speaking HTTP/2 (ALPN h2) to h2c
// backends such as gRPC's, and HTTP/1.1 or HTTP/2 as the backend chooses otherwise.
func (e *emitter) tlsTransport(a *ir.Action, t *ir.BackendTLS) *caddyjson.HTTPTransport {
	tr := &caddyjson.HTTPTransport{Protocol: "gateway_tls", BackendTLS: e.tlsJSON(t)}
	if a.BackendProtocol == ir.ProtocolH2C {
		tr.Versions = []string{"2"}
	}
	return tr
}

// tlsJSON is t as the gateway_tls transport and the gateway_mirror handler take it,
// with the client certificate's PEM; nil for nil.
func (e *emitter) tlsJSON(t *ir.BackendTLS) *caddyjson.BackendTLS {
	if t == nil {
		return nil
	}
	j := &caddyjson.BackendTLS{ServerName: t.ServerName, TrustedCAs: t.TrustedCAs, SystemCAs: t.SystemCAs}
	for _, s := range t.SubjectAltNames {
		j.SubjectAltNames = append(j.SubjectAltNames, caddyjson.SubjectAltName{Hostname: s.Hostname, URI: s.URI})
	}
	if c := e.certs[t.ClientCertificate]; c != nil {
		j.ClientCertificate, j.ClientKey = c.CertPEM, c.KeyPEM
	}
	return j
}

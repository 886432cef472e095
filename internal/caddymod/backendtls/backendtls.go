// Package backendtls is the Caddy reverse_proxy transport module
// http.reverse_proxy.transport.gateway_tls: Caddy's HTTP transport speaking TLS to the
// backend as a BackendTLSPolicy says. Core Caddy's transport verifies only the server
// name and loads client certificates only from files; this one also accepts a backend
// certificate by a list of subject alt names (DNS names, "*.x" for one label, URIs
// compared exactly) and presents a client certificate given inline as PEM. Its
// Settings also configure the TLS of the gateway_mirror handler's copies.
//
// Verification is never skipped: the chain must end in TrustedCAs (or the system's
// roots with SystemCAs), and the leaf must carry one of SubjectAltNames, or ServerName
// when there are none. The Host header sent is the client's (core Caddy's TLS transport
// would set it to the upstream address).
package backendtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// HandshakeTimeout bounds each TLS handshake with a backend, as Go's default transport does.
const HandshakeTimeout = 10 * time.Second

func init() {
	caddy.RegisterModule(Transport{})
}

// Transport is reverseproxy.HTTPTransport with its TLS set from Settings; the
// embedded transport's own "tls" must be left out.
type Transport struct {
	reverseproxy.HTTPTransport
	Settings
}

// Settings are how a backend is spoken to over TLS and verified. The mirror handler
// (http.handlers.gateway_mirror) takes them too.
type Settings struct {
	// ServerName is sent as SNI; without SubjectAltNames the backend's certificate must
	// be valid for it. Required.
	ServerName string `json:"server_name"`
	// TrustedCAs are PEM CA certificates the backend's chain must end in; at least one
	// unless SystemCAs.
	TrustedCAs []string `json:"trusted_cas,omitempty"`
	// SystemCAs trusts the system's roots instead of TrustedCAs.
	SystemCAs bool `json:"system_cas,omitempty"`
	// SubjectAltNames, when set, replace ServerName in verification: the certificate
	// must carry one of them.
	SubjectAltNames []SubjectAltName `json:"subject_alt_names,omitempty"`
	// ClientCertificate and ClientKey are the PEM certificate chain and key presented
	// when the backend asks for a client certificate; both or neither.
	ClientCertificate string `json:"client_certificate,omitempty"`
	ClientKey         string `json:"client_key,omitempty"`
}

// SubjectAltName is one name the backend's certificate may carry: exactly one of
// Hostname (a DNS name, or "*.x" for any one label in front of x) and URI.
type SubjectAltName struct {
	Hostname string `json:"hostname,omitempty"`
	URI      string `json:"uri,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Transport) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.transport.gateway_tls",
		New: func() caddy.Module { return new(Transport) },
	}
}

// Provision provisions the embedded HTTP transport with TLS on, then sets the TLS
// client config it dials with.
func (t *Transport) Provision(ctx caddy.Context) error {
	if t.TLS != nil {
		return errors.New("gateway_tls: tls must not be set; the transport's own fields configure TLS")
	}
	cfg, err := t.ClientConfig()
	if err != nil {
		return fmt.Errorf("gateway_tls: %w", err)
	}
	// A TLSConfig with no verification settings turns TLS on without a tls.Config of
	// its own (Caddy builds none for it); http2.ConfigureTransport then adds the h2 ALPN
	// protocols to the config we fill in below. A backend that accepts connections but
	// never completes a handshake fails after HandshakeTimeout (Caddy's default waits
	// for as long as the request lives).
	t.TLS = &reverseproxy.TLSConfig{HandshakeTimeout: caddy.Duration(HandshakeTimeout)}
	if err := t.HTTPTransport.Provision(ctx); err != nil {
		return err
	}
	rt := t.Transport
	if rt.TLSClientConfig == nil {
		rt.TLSClientConfig = new(tls.Config)
	}
	c := rt.TLSClientConfig
	c.ServerName, c.RootCAs, c.Certificates = cfg.ServerName, cfg.RootCAs, cfg.Certificates
	c.InsecureSkipVerify, c.VerifyConnection = cfg.InsecureSkipVerify, cfg.VerifyConnection
	return nil
}

// ClientConfig is the TLS client config of the settings: server name, roots, client
// certificate and, with subject alt names, the verification that replaces Go's.
func (t *Settings) ClientConfig() (*tls.Config, error) {
	if t.ServerName == "" {
		return nil, errors.New("server_name is required")
	}
	cfg := &tls.Config{ServerName: t.ServerName}
	switch {
	case t.SystemCAs && len(t.TrustedCAs) > 0:
		return nil, errors.New("trusted_cas and system_cas exclude each other")
	case !t.SystemCAs && len(t.TrustedCAs) == 0:
		return nil, errors.New("trusted_cas or system_cas is required")
	case !t.SystemCAs:
		cfg.RootCAs = x509.NewCertPool()
		for i, p := range t.TrustedCAs {
			if !cfg.RootCAs.AppendCertsFromPEM([]byte(p)) {
				return nil, fmt.Errorf("trusted_cas[%d] holds no PEM certificate", i)
			}
		}
	}
	if (t.ClientCertificate == "") != (t.ClientKey == "") {
		return nil, errors.New("client_certificate and client_key go together")
	}
	if t.ClientCertificate != "" {
		c, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("client_certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if len(t.SubjectAltNames) == 0 {
		return cfg, nil // Go verifies the chain and ServerName
	}
	for i, s := range t.SubjectAltNames {
		if (s.Hostname == "") == (s.URI == "") {
			return nil, fmt.Errorf("subject_alt_names[%d] needs exactly one of hostname and uri", i)
		}
	}
	// Go's verification would demand ServerName in the certificate: it is replaced by
	// verifySANs, which verifies the chain as Go does and then the names.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = verifySANs(cfg.RootCAs, t.SubjectAltNames)
	return cfg, nil
}

// verifySANs verifies the peer's chain up to roots (nil: the system's) for server
// authentication, then that the leaf carries one of sans.
func verifySANs(roots *x509.CertPool, sans []SubjectAltName) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("backend presented no certificate")
		}
		leaf := cs.PeerCertificates[0]
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := leaf.Verify(opts); err != nil {
			return fmt.Errorf("backend certificate: %w", err)
		}
		for _, s := range sans {
			if carries(leaf, s) {
				return nil
			}
		}
		return errors.New("backend certificate carries none of the subject alt names")
	}
}

// carries reports whether the certificate holds san: a URI SAN equal to its URI, or a
// DNS SAN matching its hostname (see dnsMatch).
func carries(c *x509.Certificate, san SubjectAltName) bool {
	if san.URI != "" {
		for _, u := range c.URIs {
			if u.String() == san.URI {
				return true
			}
		}
		return false
	}
	for _, n := range c.DNSNames {
		if dnsMatch(san.Hostname, n) {
			return true
		}
	}
	return false
}

// dnsMatch compares a wanted name with a certificate's DNS name, case-insensitively
// and without trailing dots: equal names match, a wanted "*.x" matches "<label>.x",
// and a certificate's "*.x" matches a wanted "<label>.x" (one label, not empty).
func dnsMatch(want, have string) bool {
	want = strings.ToLower(strings.TrimSuffix(want, "."))
	have = strings.ToLower(strings.TrimSuffix(have, "."))
	if want == "" || have == "" {
		return false
	}
	return want == have || wildcardCovers(want, have) || wildcardCovers(have, want)
}

// wildcardCovers reports whether pattern is "*.x" and name is "<label>.x".
func wildcardCovers(pattern, name string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*")
	if !ok || !strings.HasPrefix(suffix, ".") || len(suffix) < 2 {
		return false
	}
	label, ok := strings.CutSuffix(name, suffix)
	return ok && label != "" && !strings.ContainsAny(label, ".*")
}

// RequestHeaderOps keeps the client's Host header: core Caddy's TLS transport sets it
// to the upstream address, which a Gateway must not.
func (t *Transport) RequestHeaderOps() *headers.HeaderOps { return nil }

// Interface guards.
var (
	_ caddy.Provisioner                      = (*Transport)(nil)
	_ caddy.CleanerUpper                     = (*Transport)(nil)
	_ reverseproxy.TLSTransport              = (*Transport)(nil)
	_ reverseproxy.RequestHeaderOpsTransport = (*Transport)(nil)
)

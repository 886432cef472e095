package emit

import (
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// ServerOptions are the settings of every listener's HTTP server (CaddyProxyConfig
// spec.caddy); the readiness and invalid-backend servers keep Caddy's defaults. The
// zero value leaves every setting to Caddy.
type ServerOptions struct {
	// Protocols the servers speak ("h1", "h2", "h2c", "h3"); Caddy's default (h1, h2,
	// h3, with HTTP/2 over cleartext by prior knowledge) when empty.
	Protocols []string
	// ReadHeaderTimeout is read_header_timeout; Caddy's default (1m) when nil, none when 0.
	ReadHeaderTimeout *time.Duration
	// ReadTimeout is read_timeout; none when nil or 0.
	ReadTimeout *time.Duration
	// WriteTimeout is write_timeout; none when nil or 0.
	WriteTimeout *time.Duration
	// IdleTimeout is idle_timeout; Caddy's default (5m) when nil, none when 0.
	IdleTimeout *time.Duration
	// TrustedProxies are CIDRs whose X-Forwarded-For Caddy believes and forwards; none
	// when empty.
	TrustedProxies []string
	// ProxyProtocol, when set, reads PROXY protocol headers before TLS on every listener.
	ProxyProtocol *ProxyProtocol
	// TLSMinVersion is the least TLS version of HTTPS listeners, "1.2" or "1.3"; Caddy's
	// default (1.2) when empty.
	TLSMinVersion string
	// CipherSuites are the TLS 1.2 cipher suites HTTPS listeners allow, by crypto/tls
	// name; Caddy's defaults when empty.
	CipherSuites []string
	// UDPIdleTimeout ends a UDP listener's session after this long without a datagram
	// (the layer4 server's idle_timeout); caddy-l4's default (30s) when nil or 0.
	UDPIdleTimeout *time.Duration
}

// ProxyProtocol configures the proxy_protocol listener wrapper.
type ProxyProtocol struct {
	// Allow lists the CIDRs whose PROXY header gives the client address; a header from
	// any other peer is read and ignored.
	Allow []string
	// Timeout bounds reading the header; DefaultProxyProtocolTimeout when nil, none when 0.
	Timeout *time.Duration
}

// DefaultProxyProtocolTimeout bounds reading a PROXY header when ProxyProtocol.Timeout
// is nil (the library under Caddy's wrapper would wait 10s).
const DefaultProxyProtocolTimeout = "5s"

// applyServerOptions sets o's settings on out, the server of a listener port.
func applyServerOptions(out *caddyjson.Server, o *ServerOptions) {
	out.Protocols = o.Protocols
	out.ReadHeaderTimeout = duration(o.ReadHeaderTimeout, true)
	out.ReadTimeout = duration(o.ReadTimeout, false)
	out.WriteTimeout = duration(o.WriteTimeout, false)
	out.IdleTimeout = duration(o.IdleTimeout, true)
	if len(o.TrustedProxies) > 0 {
		out.TrustedProxies = &caddyjson.IPSource{Source: "static", Ranges: o.TrustedProxies}
		out.TrustedProxiesStrict = 1
	}
	if pp := o.ProxyProtocol; pp != nil {
		timeout := duration(pp.Timeout, true)
		if timeout == "" {
			timeout = DefaultProxyProtocolTimeout
		}
		// The PROXY header comes before the TLS handshake.
		out.ListenerWrappers = []caddyjson.ListenerWrapper{
			{Wrapper: "proxy_protocol", Allow: pp.Allow, Timeout: timeout},
			{Wrapper: "tls"},
		}
	}
	for i := range out.TLSConnectionPolicies {
		p := &out.TLSConnectionPolicies[i]
		p.CipherSuites = o.CipherSuites
		if o.TLSMinVersion != "" {
			p.ProtocolMin = "tls" + o.TLSMinVersion
		}
	}
}

// duration renders d as a Caddy duration string: "" (Caddy's default) when nil. Zero
// means no timeout; where Caddy replaces zero with a default (zeroIsDefault), it is
// written as a negative duration, which Go's servers read as none.
func duration(d *time.Duration, zeroIsDefault bool) string {
	switch {
	case d == nil:
		return ""
	case *d == 0 && zeroIsDefault:
		return "-1ns"
	}
	return d.String()
}

package params

import (
	"crypto/tls"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
)

// ServerOptions turns the server settings of spec.caddy (protocols, timeouts, UDP
// session idle timeout, trusted proxies, PROXY protocol, TLS) into the emitter's options; unset fields keep Caddy's
// defaults. c may be nil.
func ServerOptions(c *v1alpha1.CaddyRuntimeSpec) emit.ServerOptions {
	var o emit.ServerOptions
	if c == nil {
		return o
	}
	for _, p := range c.Protocols {
		o.Protocols = append(o.Protocols, string(p))
	}
	if t := c.Timeouts; t != nil {
		o.ReadHeaderTimeout, o.ReadTimeout = duration(t.ReadHeader), duration(t.Read)
		o.WriteTimeout, o.IdleTimeout = duration(t.Write), duration(t.Idle)
	}
	o.UDPIdleTimeout = duration(c.UDPSessionIdleTimeout)
	o.TrustedProxies = slices.Clone(c.TrustedProxies)
	if pp := c.ProxyProtocol; pp != nil {
		o.ProxyProtocol = &emit.ProxyProtocol{Allow: slices.Clone(pp.Allow), Timeout: duration(pp.Timeout)}
	}
	if t := c.TLS; t != nil {
		if t.MinVersion != nil {
			o.TLSMinVersion = *t.MinVersion
		}
		o.CipherSuites = slices.Clone(t.CipherSuites)
	}
	return o
}

func duration(d *metav1.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	return &d.Duration
}

// TLS12CipherSuites are the names spec.caddy.tls.cipherSuites accepts: the TLS 1.2
// suites crypto/tls (and so Caddy) supports and deems secure.
func TLS12CipherSuites() []string {
	var names []string
	for _, cs := range tls.CipherSuites() {
		if slices.Contains(cs.SupportedVersions, tls.VersionTLS12) {
			names = append(names, cs.Name)
		}
	}
	return names
}

// validateTLS checks spec.caddy.tls: cipher suites Caddy knows, and none under a TLS
// 1.3 minimum, where they would have no effect (TLS 1.3 suites are fixed). The schema
// checks each object alone; a merged spec may take minVersion and cipherSuites from
// different levels.
func validateTLS(c *v1alpha1.CaddyRuntimeSpec) field.ErrorList {
	if c == nil || c.TLS == nil {
		return nil
	}
	path := field.NewPath("spec", "caddy", "tls", "cipherSuites")
	var errs field.ErrorList
	supported := TLS12CipherSuites()
	for i, name := range c.TLS.CipherSuites {
		if !slices.Contains(supported, name) {
			errs = append(errs, field.NotSupported(path.Index(i), name, supported))
		}
	}
	if m := c.TLS.MinVersion; m != nil && *m == "1.3" && len(c.TLS.CipherSuites) > 0 {
		errs = append(errs, field.Forbidden(path, fmt.Sprintf("must be empty when spec.caddy.tls.minVersion is %q: TLS 1.3 cipher suites are fixed", *m)))
	}
	return errs
}

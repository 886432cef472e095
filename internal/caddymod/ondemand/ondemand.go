// Package ondemand is the Caddy module tls.permission.gateway_routes: it allows a
// certificate to be obtained on demand, at a TLS handshake, only for a server name
// that is under the hostname of a listener issuing on demand and the exact hostname of
// a route attached to that listener, as the listener's route table holds it at that
// moment (internal/caddymod/routetable). A name only a wildcard route or the catch-all
// covers, or any other server name, is refused, so no client can make the Gateway order
// certificates for names nobody routes. Route changes reach it without a config
// reload. It must not decide what the route tables hold.
package ondemand

import (
	"context"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/caddymod/routetable"
)

func init() {
	caddy.RegisterModule(Permission{})
}

// Permission is caddyjson.RoutesPermission without its module key.
type Permission struct {
	// Listeners are the listeners issuing on demand, with their route tables.
	Listeners []caddyjson.OnDemandListener `json:"listeners"`
}

// CaddyModule returns the Caddy module information.
func (Permission) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "tls.permission." + caddyjson.RoutesPermissionModule,
		New: func() caddy.Module { return new(Permission) },
	}
}

// Validate refuses a listener without a table or with a hostname that is neither a
// wildcard nor empty (an exact hostname is obtained ahead, not on demand).
func (p *Permission) Validate() error {
	for i, l := range p.Listeners {
		switch {
		case l.Table == "":
			return fmt.Errorf("listeners[%d].table is empty", i)
		case l.Hostname != "" && !strings.HasPrefix(l.Hostname, "*."):
			return fmt.Errorf("listeners[%d].hostname %q is neither a wildcard nor empty", i, l.Hostname)
		}
	}
	return nil
}

// CertificateAllowed allows name when a listener's hostname covers it and the
// listener's route table holds a host table for exactly that name.
func (p *Permission) CertificateAllowed(_ context.Context, name string) error {
	name = strings.ToLower(name)
	for _, l := range p.Listeners {
		if covers(l.Hostname, name) && routetable.HasExactHost(l.Table, name) {
			return nil
		}
	}
	return fmt.Errorf("%s: %w: no route attached to a listener issuing on demand has this exact hostname",
		name, caddytls.ErrPermissionDenied)
}

// covers reports whether a listener hostname ("*.suffix" or empty) covers name, as the
// Gateway API matches listener hostnames: a wildcard stands for one or more labels.
func covers(hostname, name string) bool {
	if name == "" || strings.Contains(name, "*") {
		return false
	}
	if hostname == "" {
		return true
	}
	suffix := strings.TrimPrefix(hostname, "*")
	return strings.HasSuffix(name, suffix) && len(name) > len(suffix)
}

var (
	_ caddytls.OnDemandPermission = (*Permission)(nil)
	_ caddy.Validator             = (*Permission)(nil)
)

// Package caddymod registers the operator's own Caddy modules: the handlers the Gateway
// API needs and core Caddy lacks (request mirroring, CORS, a request deadline, weighted
// branches for backend filters, a listener's external authorization before routing, a
// weighted upstream selection for HTTP and layer4 proxies that interleaves and survives
// reloads, and that for layer4 closes the connections of backends a reload leaves out
// of their rule, a reverse_proxy transport speaking TLS to backends as a
// BackendTLSPolicy says, and route tables served by host lookup and changed through the
// admin API without a config reload, an ACME issuer taking its directory's trusted
// roots inline, the permission of on-demand certificates by the routes' exact
// hostnames, the certificate storage a Gateway's pods share in the cluster with the
// recorder of their certificates' states, and the hold of a pod's exit while it is taken
// out of rotation). Import it for its side effect, as cmd/caddy
// does and as every test that validates or runs emitted configs must, so that Caddy
// knows the modules. It holds no code of its own.
package caddymod

import (
	// tls.issuance.gateway_acme
	_ "github.com/caddy-gateway/operator/internal/caddymod/acmeroots"
	// http.reverse_proxy.transport.gateway_tls
	_ "github.com/caddy-gateway/operator/internal/caddymod/backendtls"
	// http.handlers.gateway_cors
	_ "github.com/caddy-gateway/operator/internal/caddymod/cors"
	// http.handlers.gateway_external_auth
	_ "github.com/caddy-gateway/operator/internal/caddymod/extauth"
	// http.handlers.gateway_request_timeout
	_ "github.com/caddy-gateway/operator/internal/caddymod/deadline"
	// layer4.proxy.selection_policies.gateway_smooth
	_ "github.com/caddy-gateway/operator/internal/caddymod/l4smooth"
	// http.handlers.gateway_mirror
	_ "github.com/caddy-gateway/operator/internal/caddymod/mirror"
	// http.reverse_proxy.selection_policies.gateway_smooth
	_ "github.com/caddy-gateway/operator/internal/caddymod/smooth"
	// http.handlers.gateway_routes, admin.api.gateway_routes
	_ "github.com/caddy-gateway/operator/internal/caddymod/routetable"
	// tls.permission.gateway_routes
	_ "github.com/caddy-gateway/operator/internal/caddymod/ondemand"
	// http.handlers.gateway_split
	_ "github.com/caddy-gateway/operator/internal/caddymod/split"
	// caddy.storage.gateway_secrets
	_ "github.com/caddy-gateway/operator/internal/caddymod/gatewaysecrets"
	// events.handlers.gateway_certificate_states
	_ "github.com/caddy-gateway/operator/internal/caddymod/certstates"
	// events.handlers.gateway_drain
	_ "github.com/caddy-gateway/operator/internal/caddymod/drain"
)

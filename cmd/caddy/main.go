// Command caddy is the data plane of the Caddy Gateway Operator: Caddy with its standard
// modules, the caddy-l4 layer-4 app (TLS passthrough, TCPRoute, UDPRoute) and the
// operator's own Caddy modules. The image caddy-gateway-caddy is built from it.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4"

	_ "github.com/caddy-gateway/operator/internal/caddymod"
)

func main() {
	caddycmd.Main()
}

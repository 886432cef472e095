package params

import (
	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
)

// DefaultShutdownDelay is caddy.shutdownDelay's documented default: a terminating pod
// keeps accepting on every listener this long so that load balancers, and kube-proxy on
// a busy node, stop sending it new connections before its listeners close and its
// address goes; a connection sent meanwhile would be refused or fail with "no route to
// host". Envoy Gateway's minimum drain is the same 10s.
const DefaultShutdownDelay = "10s"

// EmitOptions is every setting of the merged spec.caddy (c may be nil) as the emitter's
// options: the one place where a CaddyProxyConfig field reaches the pushed config.
// Unset fields keep their documented defaults.
func EmitOptions(c *v1alpha1.CaddyRuntimeSpec) emit.Options {
	opts := emit.Options{ReadinessPort: ReadinessPort, ShutdownDelay: DefaultShutdownDelay, Servers: ServerOptions(c)}
	if c != nil && c.GracePeriod != nil {
		opts.GracePeriod = c.GracePeriod.Duration.String()
	}
	if c != nil && c.ShutdownDelay != nil {
		opts.ShutdownDelay = "" // 0s: listeners close the moment the pod is told to stop
		if d := c.ShutdownDelay.Duration; d > 0 {
			opts.ShutdownDelay = d.String()
		}
	}
	SetObservability(&opts, c)
	return opts
}

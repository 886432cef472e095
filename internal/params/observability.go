package params

import (
	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
)

// defaultAccessLogFormat is caddy.accessLogs.format's documented default.
const defaultAccessLogFormat = v1alpha1.AccessLogFormat("json")

// SetObservability sets the logs, metrics and stream close delay of caddy (which may be
// nil) on opts; unset fields keep their documented defaults: level INFO, no access
// logs, metrics on DefaultMetricsPort, streams closed on reload.
func SetObservability(opts *emit.Options, caddy *v1alpha1.CaddyRuntimeSpec) {
	opts.MetricsPort = DefaultMetricsPort
	if caddy == nil {
		return
	}
	if d := caddy.StreamCloseDelay; d != nil && d.Duration > 0 {
		opts.StreamCloseDelay = d.Duration.String()
	}
	if caddy.LogLevel != nil {
		opts.LogLevel = string(*caddy.LogLevel)
	}
	if a := caddy.AccessLogs; a != nil && a.Enabled != nil && *a.Enabled {
		format := defaultAccessLogFormat
		if a.Format != nil {
			format = *a.Format
		}
		opts.AccessLogFormat = string(format)
	}
	if m := caddy.Metrics; m != nil {
		if m.Port != nil {
			opts.MetricsPort = *m.Port
		}
		opts.DisableMetrics = m.Enabled != nil && !*m.Enabled
	}
}

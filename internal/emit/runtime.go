package emit

import (
	"fmt"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// accessLogger is the logger of Caddy's access log entries.
const accessLogger = "http.log.access"

var logLevels = map[string]bool{"DEBUG": true, "INFO": true, "WARN": true, "ERROR": true}

// check refuses options Caddy would reject or that make two servers share a port.
func (o Options) check() error {
	if o.LogLevel != "" && !logLevels[o.LogLevel] {
		return fmt.Errorf("log level %q is not one of DEBUG, INFO, WARN, ERROR", o.LogLevel)
	}
	if f := o.AccessLogFormat; f != "" && f != "json" && f != "console" {
		return fmt.Errorf("access log format %q is not json or console", f)
	}
	if !o.DisableMetrics && o.MetricsPort == o.ReadinessPort {
		return fmt.Errorf("metrics port %d is reserved for the readiness server", o.MetricsPort)
	}
	return o.checkACME()
}

// logging is the logging config: the level of Caddy's own log and the access log,
// which goes to stdout and not to Caddy's own log. nil when both keep Caddy's defaults.
func (o Options) logging() *caddyjson.Logging {
	if o.LogLevel == "" && o.AccessLogFormat == "" && o.LogFile == "" {
		return nil
	}
	def := &caddyjson.CustomLog{Level: o.LogLevel}
	logs := map[string]*caddyjson.CustomLog{"default": def}
	if o.LogFile != "" {
		def.Writer = &caddyjson.LogWriter{Output: "file", Filename: o.LogFile}
	}
	if o.AccessLogFormat != "" {
		def.Exclude = []string{accessLogger}
		access := &caddyjson.CustomLog{
			Writer:  &caddyjson.LogWriter{Output: "stdout"},
			Encoder: &caddyjson.LogEncoder{Format: o.AccessLogFormat},
			Include: []string{accessLogger},
		}
		if o.LogFile != "" {
			access.Writer = def.Writer
		}
		logs["access"] = access
	}
	return &caddyjson.Logging{Logs: logs}
}

// metricsServer answers GET /metrics with Caddy's metrics in Prometheus text.
func (e *emitter) metricsServer() *caddyjson.Server {
	return &caddyjson.Server{
		Listen: e.listen(e.opts.MetricsPort),
		Routes: []caddyjson.Route{
			{
				Match:  []caddyjson.MatcherSet{{Path: []string{"/metrics"}}},
				Handle: []caddyjson.Handler{caddyjson.MetricsHandler{Handler: "metrics"}},
			},
			{Handle: []caddyjson.Handler{status(404)}},
		},
		AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true},
	}
}

package caddyjson

// Logging is caddy.Logging: Caddy's logs by name. "default" is the log of Caddy's own
// messages; other logs take the entries their Include names.
type Logging struct {
	// Logs by name.
	Logs map[string]*CustomLog `json:"logs,omitempty"`
}

// CustomLog is caddy.CustomLog.
type CustomLog struct {
	// Writer is where entries go; nil is stderr.
	Writer *LogWriter `json:"writer,omitempty"`
	// Encoder formats entries; nil is JSON (console on a terminal).
	Encoder *LogEncoder `json:"encoder,omitempty"`
	// Level is the least level written: DEBUG, INFO, WARN or ERROR; empty is INFO.
	Level string `json:"level,omitempty"`
	// Include names the loggers whose entries this log takes; empty takes all.
	Include []string `json:"include,omitempty"`
	// Exclude names loggers whose entries this log drops.
	Exclude []string `json:"exclude,omitempty"`
}

// LogWriter is a caddy.logging.writers module.
type LogWriter struct {
	// Output is the module: "stdout", "stderr" or "file".
	Output string `json:"output"`
	// Filename is the file of the "file" writer.
	Filename string `json:"filename,omitempty"`
}

// LogEncoder is a caddy.logging.encoders module.
type LogEncoder struct {
	// Format is the module: "json" or "console".
	Format string `json:"format"`
}

// ServerLogs is caddyhttp.ServerLogConfig. Its presence on a server turns on access
// logs: one entry per request from the logger http.log.access.
type ServerLogs struct{}

// HTTPMetrics is caddyhttp.Metrics. Its presence on the http app turns on request
// metrics (caddy_http_requests_total and others, labelled by server and handler).
type HTTPMetrics struct {
	// PerHost adds a host label.
	PerHost bool `json:"per_host,omitempty"`
}

// MetricsHandler is the "metrics" handler: Prometheus metrics of the running config.
type MetricsHandler struct {
	Handler string `json:"handler"`
}

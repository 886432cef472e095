package caddyjson

// GatewayMirror is the operator's own "gateway_mirror" handler
// (internal/caddymod/mirror): it sends a copy of a sampled share of requests to each
// upstream and discards the answers. Fields are taken literally (no placeholders).
type GatewayMirror struct {
	Handler string `json:"handler"`
	// Upstreams receive the copies; Dial is "host:port".
	Upstreams []Upstream `json:"upstreams"`
	// Percent of requests mirrored, 0 to 100; nil mirrors all.
	Percent *float64 `json:"percent,omitempty"`
	// Protocol is "h2c" to send copies over HTTP/2 (gRPC; cleartext with prior
	// knowledge, or negotiated by ALPN with TLS); empty is HTTP/1.1.
	Protocol string `json:"protocol,omitempty"`
	// TLS, when set, sends the copies over TLS.
	TLS *BackendTLS `json:"tls,omitempty"`
}

// GatewayCORS is the operator's own "gateway_cors" handler (internal/caddymod/cors):
// the Gateway API HTTPCORSFilter. Values are taken literally (no placeholders).
type GatewayCORS struct {
	Handler string `json:"handler"`
	// AllowOrigins are "*" or "scheme://host[:port]", the host optionally starting
	// with a "*" label that matches any number of labels.
	AllowOrigins []string `json:"allow_origins,omitempty"`
	// AllowMethods, AllowHeaders and ExposeHeaders are sent as listed; ["*"] echoes
	// the request (methods, headers) or is sent as "*" (expose, without credentials).
	AllowMethods  []string `json:"allow_methods,omitempty"`
	AllowHeaders  []string `json:"allow_headers,omitempty"`
	ExposeHeaders []string `json:"expose_headers,omitempty"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool `json:"allow_credentials,omitempty"`
	// MaxAge is Access-Control-Max-Age in seconds; 0 is the module default (5).
	MaxAge int `json:"max_age,omitempty"`
}

// GatewaySplit is the operator's own "gateway_split" handler (internal/caddymod/split):
// each request runs the routes of one branch, chosen by smooth weighted round robin.
type GatewaySplit struct {
	Handler string `json:"handler"`
	// Key names the split: configs with the same key and weights continue one
	// sequence of choices across reloads.
	Key string `json:"key,omitempty"`
	// Branches are chosen in proportion to their weights.
	Branches []SplitBranch `json:"branches"`
}

// SplitBranch is one weighted branch of a GatewaySplit.
type SplitBranch struct {
	// Weight is the relative share of requests, > 0.
	Weight int `json:"weight"`
	// Routes run like a subroute's for the requests of this branch.
	Routes []Route `json:"routes"`
}

// GatewayRequestTimeout is the operator's own "gateway_request_timeout" handler
// (internal/caddymod/deadline): a deadline for the rest of the handler chain, retries
// included, answering 504 when it passes before a response started.
type GatewayRequestTimeout struct {
	Handler string `json:"handler"`
	// Timeout is a Go duration string.
	Timeout string `json:"timeout"`
}

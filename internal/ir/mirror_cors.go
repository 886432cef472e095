package ir

// Mirror sends a copy of a share of the requests to one backend; its responses are
// discarded.
type Mirror struct {
	// Address is "host:port" to dial.
	Address string `json:"address"`
	// Percent of requests mirrored, 0 to 100 (fractions allowed).
	Percent float64 `json:"percent"`
}

// CORS is a cross-origin resource sharing policy (the Gateway API HTTPCORSFilter).
type CORS struct {
	// AllowOrigins are "*" or "scheme://host[:port]" with an optional leading "*"
	// label in the host matching any number of labels.
	AllowOrigins []string `json:"allowOrigins,omitempty"`
	// AllowMethods, AllowHeaders and ExposeHeaders are sent as listed; ["*"] is the
	// wildcard.
	AllowMethods  []string `json:"allowMethods,omitempty"`
	AllowHeaders  []string `json:"allowHeaders,omitempty"`
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool `json:"allowCredentials,omitempty"`
	// MaxAge is Access-Control-Max-Age in seconds, > 0.
	MaxAge int32 `json:"maxAge"`
}

package ir

// Mirror sends a copy of a share of the requests to one backend; its responses are
// discarded.
type Mirror struct {
	// Address is "host:port" to dial.
	Address string `json:"address"`
	// Percent of requests mirrored, 0 to 100 (fractions allowed).
	Percent float64 `json:"percent"`
	// Protocol is how copies are sent: HTTP/1.1 (the zero value) or h2c (gRPC).
	Protocol BackendProtocol `json:"protocol,omitempty"`
	// TLS, when set, sends the copies over TLS verified as it says (a BackendTLSPolicy
	// targeting the mirror's Service port); h2c then becomes HTTP/2 negotiated by ALPN.
	TLS *BackendTLS `json:"tls,omitempty"`
}

// BackendFilters are the filters of one backend reference (HTTPRoute and GRPCRoute
// backendRefs[].filters). They run in this order: CORS, header filters, rewrite,
// mirrors, then the redirect or the forwarding.
type BackendFilters struct {
	// RequestHeaders and ResponseHeaders modify headers on the way to and from this
	// backend.
	RequestHeaders  *HeaderModifier `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`
	// Rewrite changes the request forwarded to this backend; it applies after the
	// action's rewrite, so its hostname and path win.
	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// Mirrors receive copies of the requests sent to this backend.
	Mirrors []Mirror `json:"mirrors,omitempty"`
	// Redirect, when set, answers this backend's share of requests with a redirect;
	// nothing is forwarded to the backend.
	Redirect *Redirect `json:"redirect,omitempty"`
	// CORS, when set, answers this backend's share of preflights and adds CORS headers
	// to its responses.
	CORS *CORS `json:"cors,omitempty"`
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

package caddyjson

// AuthProxy is the "reverse_proxy" handler as it asks an authorization service about a
// request, the way Caddy's forward_auth directive builds it: the request is copied to
// the service (Rewrite, Headers) and the handlers of the first HandleResponse that
// matches the service's answer run; when none matches, the answer goes to the client.
// Routes of a matching HandleResponse that end without a terminal handler let the
// request continue to the handlers after this one.
type AuthProxy struct {
	// Handler is "reverse_proxy".
	Handler   string        `json:"handler"`
	Upstreams []Upstream    `json:"upstreams"`
	Headers   *ProxyHeaders `json:"headers,omitempty"`
	// Rewrite changes the copy sent to the service; method GET sends no body.
	Rewrite *ProxyRewrite `json:"rewrite,omitempty"`
	// HandleResponse are tried in order against the service's answer.
	HandleResponse []ResponseHandler `json:"handle_response,omitempty"`
}

// ProxyRewrite is reverse_proxy's rewrite of the upstream request (rewrite.Rewrite).
type ProxyRewrite struct {
	// Method replaces the method; "GET" also drops the body.
	Method string `json:"method,omitempty"`
	// URI replaces the path and query (placeholders expand).
	URI string `json:"uri,omitempty"`
}

// ResponseHandler is caddyhttp.ResponseHandler: Routes run when Match matches.
type ResponseHandler struct {
	Match  *ResponseMatcher `json:"match,omitempty"`
	Routes []Route          `json:"routes,omitempty"`
}

// ResponseMatcher is caddyhttp.ResponseMatcher.
type ResponseMatcher struct {
	// StatusCode matches these codes; a one-digit code matches its class (2 is 2xx).
	StatusCode []int `json:"status_code,omitempty"`
}

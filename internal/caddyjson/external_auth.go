package caddyjson

// ExternalAuth is our "gateway_external_auth" handler (internal/caddymod/extauth): it
// asks an authorization service about each request through Proxy, without the body; a
// 200 copies the allowed headers of the answer into the request (never Host) and lets
// it continue, any other answer goes to the client.
type ExternalAuth struct {
	// Handler is "gateway_external_auth".
	Handler string `json:"handler"`
	// Proxy reaches the service.
	Proxy ReverseProxy `json:"proxy"`
	// PathPrefix is put before the request's path in the request to the service.
	PathPrefix string `json:"path_prefix,omitempty"`
	// AllowedHeaders are the request headers sent besides Host and Authorization.
	AllowedHeaders []string `json:"allowed_headers,omitempty"`
	// AllowedResponseHeaders are copied from a 200 answer; empty copies every header
	// but those describing the answer itself.
	AllowedResponseHeaders []string `json:"allowed_response_headers,omitempty"`
}

package ir

// RequestFilter is one pre-routing filter of a listener (listeners[].filters.requests):
// it runs on every request of the listener, in list order, before route matching, and
// never changes the request's Host.
type RequestFilter struct {
	// ExternalAuth asks an HTTP authorization service; the only kind of filter there is.
	ExternalAuth *ExternalAuth `json:"externalAuth"`
}

// ExternalAuth asks an HTTP authorization service about every request, with its method,
// Host, path and query, Authorization and the allowed headers, and no body: 200 lets the
// request continue, with the allowed response headers copied into it; any other answer
// goes back to the client as the service gave it.
type ExternalAuth struct {
	// Address is "host:port" of the service; empty when Invalid.
	Address string `json:"address,omitempty"`
	// Invalid marks a reference that could not be resolved or is not permitted: every
	// request of the listener gets 500, none passes unchecked.
	Invalid bool `json:"invalid,omitempty"`
	// PathPrefix is put before the request's path in the request to the service, without
	// a trailing slash; empty adds none.
	PathPrefix string `json:"pathPrefix,omitempty"`
	// AllowedHeaders are the client request headers sent to the service besides Host
	// and Authorization, which always are.
	AllowedHeaders []string `json:"allowedHeaders,omitempty"`
	// AllowedResponseHeaders are the service's response headers copied into the request
	// on 200; empty copies all but those that describe the answer itself (its framing,
	// content type, date, server). Host is never copied.
	AllowedResponseHeaders []string `json:"allowedResponseHeaders,omitempty"`
}

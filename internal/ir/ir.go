// Package ir is the intermediate representation between the translator and the
// emitters: plain data describing what one Gateway's data plane must do. It imports no
// Gateway API or Caddy types and holds no logic beyond trivial accessors; every list in
// it is already in its final, deterministic order.
package ir

import "time"

// Gateway is everything the data plane of one Gateway serves.
type Gateway struct {
	// Namespace and Name identify the Gateway.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// HTTP holds one server per listening port, sorted by port.
	HTTP []HTTPServer `json:"http,omitempty"`
	// TCP holds one server per TCP listener port, sorted by port.
	TCP []Layer4Server `json:"tcp,omitempty"`
	// UDP holds one server per UDP listener port, sorted by port.
	UDP []Layer4Server `json:"udp,omitempty"`
	// TLS holds one server per port of TLS listeners, sorted by port.
	TLS []TLSServer `json:"tls,omitempty"`
	// Certificates are the TLS certificates the HTTPS servers and the TLS listeners in
	// mode Terminate present, and the client certificate TLS backends are presented
	// (BackendTLS.ClientCertificate), sorted by Name. A client certificate must not be
	// chosen as a listener's server certificate unless a listener names it too.
	Certificates []Certificate `json:"certificates,omitempty"`
	// ACME is set when a listener obtains automatic certificates (Listener.Automatic).
	ACME *ACME `json:"acme,omitempty"`
}

// Certificate is a resolved TLS certificate and key in PEM form.
type Certificate struct {
	// Name is "<namespace>/<name>" of the Secret it came from; servers refer to it.
	Name string `json:"name"`
	// CertPEM and KeyPEM are the PEM data (chain first, leaf first in the chain).
	CertPEM string `json:"certPEM"`
	KeyPEM  string `json:"keyPEM"`
}

// HTTPServer is one port serving HTTP or HTTPS.
type HTTPServer struct {
	// Port is the listening port.
	Port int32 `json:"port"`
	// TLS says the port terminates TLS (all its listeners are HTTPS).
	TLS bool `json:"tls,omitempty"`
	// Listeners share the port, most specific hostname first (exact, then wildcards by
	// length, then the catch-all); a request is served only by the first that matches.
	Listeners []Listener `json:"listeners"`
}

// Listener is one Gateway listener that accepted configuration.
type Listener struct {
	// Name is the listener's name in the Gateway.
	Name string `json:"name"`
	// Hostname is the listener hostname; empty matches any host, "*.x" any suffix.
	Hostname string `json:"hostname,omitempty"`
	// Certificates name the Gateway certificates this listener presents (HTTPS only).
	Certificates []string `json:"certificates,omitempty"`
	// ClientValidation, when set, verifies TLS client certificates (HTTPS only).
	ClientValidation *ClientValidation `json:"clientValidation,omitempty"`
	// Automatic, when set, obtains the listener's certificates over ACME (HTTPS only);
	// Gateway.ACME then says how.
	Automatic *AutomaticCertificates `json:"automatic,omitempty"`
	// RequestFilters run, in order, on every request of the listener before its routes
	// are matched (pre-routing filters).
	RequestFilters []RequestFilter `json:"requestFilters,omitempty"`
	// Hosts are the route host groups, most specific first. A request tries each group
	// whose pattern matches its host, in order; the first matching route entry wins.
	Hosts []HostGroup `json:"hosts,omitempty"`
}

// HostGroup is the ordered routing table for one host pattern.
type HostGroup struct {
	// Hostname is an exact host, a "*.suffix" wildcard, or empty for any host.
	Hostname string `json:"hostname,omitempty"`
	// Routes are in Gateway API precedence order.
	Routes []Route `json:"routes"`
}

// Route is one HTTPRoute match with the action of its rule.
type Route struct {
	// Source names the route rule and match this entry comes from.
	Source Source `json:"source"`
	// Match is the request predicate (all fields AND-ed); never nil. Routes on several
	// listeners or hosts share it: treat it as read-only.
	Match *Match `json:"match"`
	// Action is what to do with a matching request; never nil. Routes of one rule may
	// share it: treat it as read-only.
	Action *Action `json:"action"`
}

// PathMatchType says how Match.Path is compared.
type PathMatchType string

// Path match types.
const (
	PathExact  PathMatchType = "Exact"
	PathPrefix PathMatchType = "PathPrefix"
	PathRegex  PathMatchType = "RegularExpression"
)

// StringMatchType says how a header or query value is compared.
type StringMatchType string

// String match types.
const (
	StringExact StringMatchType = "Exact"
	StringRegex StringMatchType = "RegularExpression"
)

// Match is one request predicate.
type Match struct {
	// PathType and Path: Exact and PathPrefix are case-sensitive; a prefix matches on
	// path-segment boundaries; PathPrefix "/" (the default) matches everything.
	PathType PathMatchType `json:"pathType"`
	Path     string        `json:"path"`
	// Method is an HTTP method, or empty for any.
	Method string `json:"method,omitempty"`
	// Headers and Query are AND-ed; names are unique (case-insensitive for headers).
	Headers []StringMatch `json:"headers,omitempty"`
	Query   []StringMatch `json:"query,omitempty"`
}

// StringMatch compares one named value.
type StringMatch struct {
	Type  StringMatchType `json:"type"`
	Name  string          `json:"name"`
	Value string          `json:"value"`
}

// Action is the outcome of a matched route: request filters, then either a redirect
// or a direct response or forwarding to backends.
type Action struct {
	// RequestHeaders and ResponseHeaders modify headers on the way in and out.
	RequestHeaders  *HeaderModifier `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`
	// Redirect, when set, answers with a redirect; backends are ignored.
	Redirect *Redirect `json:"redirect,omitempty"`
	// Rewrite, when set, changes the request before it is forwarded.
	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// DirectStatus, when non-zero, answers with this status and no backend (used for
	// 500 when a rule has no usable backend).
	DirectStatus int `json:"directStatus,omitempty"`
	// Backends receive the request in proportion to Weight; never empty when neither
	// Redirect nor DirectStatus is set. Invalid backends answer 500 for their share.
	Backends []Backend `json:"backends,omitempty"`
	// BackendProtocol is how every backend of the action is spoken to.
	BackendProtocol BackendProtocol `json:"backendProtocol,omitempty"`
	// Timeouts bound the request and each backend attempt; nil sets none.
	Timeouts *Timeouts `json:"timeouts,omitempty"`
	// Retry retries failed backend attempts; nil retries only what Caddy always
	// retries (attempts that could not connect, when retries are configured: never).
	Retry *Retry `json:"retry,omitempty"`
	// Mirrors receive copies of requests, in filter order; unresolvable ones are
	// already dropped.
	Mirrors []Mirror `json:"mirrors,omitempty"`
	// CORS, when set, answers preflights and adds CORS headers to responses.
	CORS *CORS `json:"cors,omitempty"`
}

// BackendProtocol is the application protocol spoken to backends.
type BackendProtocol string

// Backend protocols. WebSocket needs nothing special: HTTP/1.1 upgrades are proxied.
const (
	// ProtocolHTTP is HTTP/1.1 (WebSocket included); the zero value.
	ProtocolHTTP BackendProtocol = ""
	// ProtocolH2C is HTTP/2 over cleartext with prior knowledge; with Backend.TLS set
	// (gRPC to a backend with a BackendTLSPolicy) it is HTTP/2 inside that TLS.
	ProtocolH2C BackendProtocol = "h2c"
	// ProtocolTCP is the bytes of a TCP connection, whatever they carry (TCPRoute).
	ProtocolTCP BackendProtocol = "tcp"
	// ProtocolUDP is the datagrams of a UDP session, whatever they carry (UDPRoute).
	ProtocolUDP BackendProtocol = "udp"
)

// Duration is a time.Duration written as text ("1.5s") in goldens.
type Duration time.Duration

// MarshalText writes the duration in time.Duration's String form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Timeouts are the HTTPRoute rule timeouts; zero means not bounded.
type Timeouts struct {
	// Request bounds the whole transaction, retries included.
	Request Duration `json:"request,omitempty"`
	// BackendRequest bounds one attempt to a backend.
	BackendRequest Duration `json:"backendRequest,omitempty"`
}

// Retry says which failed backend attempts are tried again.
type Retry struct {
	// Codes are response status codes that are retried; empty retries none by status.
	Codes []int `json:"codes,omitempty"`
	// Attempts is the number of retries after the first attempt, > 0.
	Attempts int `json:"attempts"`
	// Backoff is the wait before each retry; zero retries at once.
	Backoff Duration `json:"backoff,omitempty"`
}

// HeaderModifier sets, adds and removes headers; names are unique per list.
type HeaderModifier struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// Header is a name and a value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PathModifierType says how a redirect or rewrite changes the path.
type PathModifierType string

// Path modifier types.
const (
	ReplaceFullPath    PathModifierType = "ReplaceFullPath"
	ReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier changes the request path.
type PathModifier struct {
	Type PathModifierType `json:"type"`
	// Value is the new full path or the replacement for the matched prefix.
	Value string `json:"value"`
	// Prefix is the matched prefix (ReplacePrefixMatch only), without trailing slash.
	Prefix string `json:"prefix,omitempty"`
}

// Redirect answers with a Location built from the request and these overrides.
type Redirect struct {
	// Scheme is the scheme of the Location, always set.
	Scheme string `json:"scheme"`
	// Hostname replaces the request host; empty keeps it.
	Hostname string `json:"hostname,omitempty"`
	// Port is written into the Location; 0 omits it (the scheme's default).
	Port int32 `json:"port,omitempty"`
	// Path changes the path; nil keeps it. The query is always kept.
	Path *PathModifier `json:"path,omitempty"`
	// StatusCode is 301, 302, 303, 307 or 308.
	StatusCode int `json:"statusCode"`
}

// Rewrite changes the forwarded request.
type Rewrite struct {
	// Hostname replaces the Host header; empty keeps it.
	Hostname string `json:"hostname,omitempty"`
	// Path changes the path; nil keeps it.
	Path *PathModifier `json:"path,omitempty"`
}

// Backend is one weighted destination.
type Backend struct {
	// Address is "host:port" to dial; empty when Invalid.
	Address string `json:"address,omitempty"`
	// Weight is the relative share, > 0.
	Weight int32 `json:"weight"`
	// Invalid marks a reference that could not be resolved or is not permitted; its
	// share of requests gets 500.
	Invalid bool `json:"invalid,omitempty"`
	// Filters, when set, apply only to the requests sent to this backend, after the
	// action's own filters; nil for invalid backends.
	Filters *BackendFilters `json:"filters,omitempty"`
	// TLS, when set, makes the proxy speak TLS to the backend and verify it as it
	// says; nil speaks plain HTTP (h2c where the backend asks for it) or raw TCP.
	TLS *BackendTLS `json:"tls,omitempty"`
}

// Package caddyjson is a typed subset of Caddy's native JSON configuration: the parts
// the operator emits. Field names and docs follow Caddy's own structs (caddy.Config,
// caddyhttp.App/Server/Route, the handler and matcher modules). It does not import Caddy;
// the contract test in package emit checks these shapes against Caddy itself.
package caddyjson

import "encoding/json"

// Config is the top level of a Caddy config (caddy.Config).
type Config struct {
	// Admin configures the admin endpoint.
	Admin *Admin `json:"admin,omitempty"`
	// Logging configures Caddy's logs; nil keeps Caddy's default log (INFO, stderr).
	Logging *Logging `json:"logging,omitempty"`
	// Storage is the caddy.storage module (with its "module" key) where Caddy keeps
	// ACME accounts, managed certificates and locks; nil is Caddy's default file system.
	Storage json.RawMessage `json:"storage,omitempty"`
	// Apps holds the app modules by name.
	Apps Apps `json:"apps"`
}

// Admin is caddy.AdminConfig.
type Admin struct {
	// Listen is the admin address, e.g. "unix//run/caddy/admin.sock".
	Listen string `json:"listen,omitempty"`
	// Config controls config persistence.
	Config *AdminConfigSettings `json:"config,omitempty"`
}

// AdminConfigSettings is caddy.ConfigSettings.
type AdminConfigSettings struct {
	// Persist autosaves the config to disk when true (Caddy's default); we set false.
	Persist *bool `json:"persist,omitempty"`
}

// Apps are the apps the operator uses.
type Apps struct {
	HTTP *HTTPApp `json:"http,omitempty"`
	TLS  *TLSApp  `json:"tls,omitempty"`
	// Layer4 is caddy-l4's app, which serves the TCP and UDP listeners and the TLS
	// listeners of ports without HTTPS.
	Layer4 *Layer4App `json:"layer4,omitempty"`
	// Events subscribes handlers to Caddy's events.
	Events *EventsApp `json:"events,omitempty"`
}

// HTTPApp is caddyhttp.App.
type HTTPApp struct {
	// GracePeriod bounds graceful shutdown of old servers on reload (duration string).
	GracePeriod string `json:"grace_period,omitempty"`
	// Servers by name.
	Servers map[string]*Server `json:"servers,omitempty"`
	// Metrics turns on request metrics for every server; nil observes none.
	Metrics *HTTPMetrics `json:"metrics,omitempty"`
}

// Server is caddyhttp.Server.
type Server struct {
	// Listen addresses, e.g. ":80" or "unix//path".
	Listen []string `json:"listen"`
	// ListenerWrappers wrap each TCP listener, in order; the "tls" wrapper marks where
	// TLS is terminated (Caddy puts it first when absent).
	ListenerWrappers []ListenerWrapper `json:"listener_wrappers,omitempty"`
	// ReadTimeout bounds reading a whole request, body included (duration string).
	ReadTimeout string `json:"read_timeout,omitempty"`
	// ReadHeaderTimeout bounds reading request headers (duration string); Caddy's
	// default is 1m, a negative duration disables it.
	ReadHeaderTimeout string `json:"read_header_timeout,omitempty"`
	// WriteTimeout bounds writing a response (duration string).
	WriteTimeout string `json:"write_timeout,omitempty"`
	// IdleTimeout bounds waiting for the next request on a kept-alive connection
	// (duration string); Caddy's default is 5m, a negative duration disables it.
	IdleTimeout string `json:"idle_timeout,omitempty"`
	// Routes are evaluated in order.
	Routes []Route `json:"routes,omitempty"`
	// TLSConnectionPolicies enable TLS on the server; first matching policy applies.
	TLSConnectionPolicies []TLSConnectionPolicy `json:"tls_connection_policies,omitempty"`
	// AutoHTTPS configures automatic HTTPS; we disable it.
	AutoHTTPS *AutoHTTPS `json:"automatic_https,omitempty"`
	// Protocols the server speaks: "h1", "h2", "h2c", "h3"; empty is Caddy's default
	// (h1, h2, h3).
	Protocols []string `json:"protocols,omitempty"`
	// StrictSNIHost answers 421 when the Host differs from the TLS ServerName. Caddy
	// turns it on by itself when a connection policy has client authentication (nil);
	// we set false there because the routes do the Gateway API's finer check.
	StrictSNIHost *bool `json:"strict_sni_host,omitempty"`
	// TrustedProxies are the peers whose ClientIPHeaders Caddy believes for the client
	// address ({client_ip}, access logs); reverse_proxy keeps their X-Forwarded-For
	// and appends to it, while it replaces the header of any other peer.
	TrustedProxies *IPSource `json:"trusted_proxies,omitempty"`
	// TrustedProxiesStrict, when positive, reads ClientIPHeaders right to left and
	// takes the first address that is not a trusted proxy: the one the nearest trusted
	// proxy saw, which a client cannot forge.
	TrustedProxiesStrict int `json:"trusted_proxies_strict,omitempty"`
	// Logs turns on access logs; nil writes none.
	Logs *ServerLogs `json:"logs,omitempty"`
}

// ListenerWrapper is a caddy.listeners module: Wrapper "tls" (caddyhttp's TLS
// placeholder), "proxy_protocol" (caddyhttp/proxyprotocol.ListenerWrapper) or
// "layer4" (caddy-l4's layer4.ListenerWrapper), which serves the connections its
// routes match and hands every other one on to the next wrapper.
type ListenerWrapper struct {
	Wrapper string `json:"wrapper"`
	// Timeout bounds reading the PROXY header (duration string); proxy_protocol only.
	Timeout string `json:"timeout,omitempty"`
	// Allow lists the CIDRs whose PROXY header gives the client address; other peers'
	// headers are read and ignored (fallback policy IGNORE). proxy_protocol only.
	Allow []string `json:"allow,omitempty"`
	// Routes are the layer4 routes, tried in order; layer4 only.
	Routes []Layer4Route `json:"routes,omitempty"`
}

// IPSource is an http.ip_sources module; Source "static" takes Ranges (CIDRs).
type IPSource struct {
	Source string   `json:"source"`
	Ranges []string `json:"ranges,omitempty"`
}

// AutoHTTPS is caddyhttp.AutoHTTPSConfig.
type AutoHTTPS struct {
	// Disable turns off certificate management and HTTP->HTTPS redirects.
	Disable bool `json:"disable,omitempty"`
}

// Route is caddyhttp.Route: matcher sets are OR-ed, handlers run in order.
type Route struct {
	Match    []MatcherSet `json:"match,omitempty"`
	Handle   []Handler    `json:"handle,omitempty"`
	Terminal bool         `json:"terminal,omitempty"`
}

// MatcherSet is one set of request matchers, AND-ed.
type MatcherSet struct {
	// Host matches the Host header (case-insensitive; "*" is one label).
	Host []string `json:"host,omitempty"`
	// Path matches the path (case-insensitive, "*" globs).
	Path []string `json:"path,omitempty"`
	// PathRegexp matches the cleaned path with RE2; patterns get no placeholder expansion.
	PathRegexp *Regexp `json:"path_regexp,omitempty"`
	// Method matches the request method.
	Method []string `json:"method,omitempty"`
	// HeaderRegexp matches header values ("Host" reads the request host).
	HeaderRegexp RegexpMap `json:"header_regexp,omitempty"`
	// Query matches query values; a non-nil empty map matches an empty query only.
	Query *map[string][]string `json:"query,omitempty"`
	// VarsRegexp matches placeholders such as {http.request.uri.query.k} with RE2. Caddy
	// matches when any one of its entries matches: several entries are OR-ed.
	VarsRegexp RegexpMap `json:"vars_regexp,omitempty"`
	// Not matches when none of its matcher sets matches.
	Not []MatcherSet `json:"not,omitempty"`
	// Expression is a CEL expression (caddyhttp.MatchExpression in its string form);
	// {placeholders} in it read the replacer. In retry_match, expressions reading
	// {http.reverse_proxy.status_code} are evaluated against each upstream response.
	Expression string `json:"expression,omitempty"`
}

// Regexp is caddyhttp.MatchRegexp.
type Regexp struct {
	// Name prefixes the capture-group placeholders {http.regexp.<name>.<n>}.
	Name string `json:"name,omitempty"`
	// Pattern is an RE2 expression.
	Pattern string `json:"pattern"`
}

// Handler is one of the handler structs below; each carries its module name.
type Handler any

// Subroute is the "subroute" handler: its own ordered routes.
type Subroute struct {
	Handler string  `json:"handler"`
	Routes  []Route `json:"routes"`
}

// StaticResponse is the "static_response" handler.
type StaticResponse struct {
	Handler    string              `json:"handler"`
	StatusCode int                 `json:"status_code,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
	Body       string              `json:"body,omitempty"`
}

// Headers is the "headers" handler.
type Headers struct {
	Handler  string         `json:"handler"`
	Request  *HeaderOps     `json:"request,omitempty"`
	Response *RespHeaderOps `json:"response,omitempty"`
}

// HeaderOps is headers.HeaderOps; values pass through the placeholder replacer.
type HeaderOps struct {
	Add    map[string][]string `json:"add,omitempty"`
	Set    map[string][]string `json:"set,omitempty"`
	Delete []string            `json:"delete,omitempty"`
}

// RespHeaderOps is headers.RespHeaderOps.
type RespHeaderOps struct {
	HeaderOps
	// Deferred applies the ops when the response is written, after the backend's headers.
	Deferred bool `json:"deferred,omitempty"`
}

// Rewrite is the "rewrite" handler.
type Rewrite struct {
	Handler string `json:"handler"`
	// URI replaces the components it contains (a path keeps the query).
	URI string `json:"uri,omitempty"`
	// PathRegexp are find/replace operations on the path, in order.
	PathRegexp []RegexReplace `json:"path_regexp,omitempty"`
}

// RegexReplace is one path_regexp operation; Replace expands placeholders and $n.
type RegexReplace struct {
	Find    string `json:"find"`
	Replace string `json:"replace"`
}

// ReverseProxy is the "reverse_proxy" handler.
type ReverseProxy struct {
	Handler       string         `json:"handler"`
	Upstreams     []Upstream     `json:"upstreams"`
	LoadBalancing *LoadBalancing `json:"load_balancing,omitempty"`
	Headers       *ProxyHeaders  `json:"headers,omitempty"`
	// Transport is how upstreams are spoken to; nil is HTTP with Caddy's defaults.
	Transport *HTTPTransport `json:"transport,omitempty"`
	// StreamCloseDelay keeps upgraded connections (WebSockets) open this long after a
	// config reload unloads the handler (duration string); empty closes them at once.
	StreamCloseDelay string `json:"stream_close_delay,omitempty"`
}

// HTTPTransport is reverseproxy.HTTPTransport ("protocol": "http"), or our
// backendtls.Transport ("protocol": "gateway_tls"), which is that transport speaking TLS
// as its TLS fields say.
type HTTPTransport struct {
	// Protocol is the transport module's inline key, "http" or "gateway_tls".
	Protocol string `json:"protocol"`
	// ResponseHeaderTimeout bounds the wait for the response headers after the
	// request was written (duration string); on expiry the client gets 504.
	ResponseHeaderTimeout string `json:"response_header_timeout,omitempty"`
	// Versions are the HTTP versions to use; ["h2c", "2"] speaks HTTP/2 over cleartext
	// with prior knowledge. Default ["1.1", "2"].
	Versions []string `json:"versions,omitempty"`
	// BackendTLS (gateway_tls only; its fields are members of the transport) is how
	// the backend is spoken to over TLS and verified.
	*BackendTLS
}

// BackendTLS is backendtls.Settings: TLS to a backend (the gateway_tls transport, the
// gateway_mirror handler). Fields are taken literally (no placeholders).
type BackendTLS struct {
	// ServerName is sent as SNI; without SubjectAltNames the backend's certificate
	// must be valid for it.
	ServerName string `json:"server_name"`
	// TrustedCAs are PEM CA certificates the backend's chain must end in, unless
	// SystemCAs.
	TrustedCAs []string `json:"trusted_cas,omitempty"`
	// SystemCAs trusts the system's roots.
	SystemCAs bool `json:"system_cas,omitempty"`
	// SubjectAltNames, when set, replace ServerName in verification: the certificate
	// must carry one of them.
	SubjectAltNames []SubjectAltName `json:"subject_alt_names,omitempty"`
	// ClientCertificate and ClientKey are the PEM certificate chain and key presented
	// to a backend that asks for a client certificate.
	ClientCertificate string `json:"client_certificate,omitempty"`
	ClientKey         string `json:"client_key,omitempty"`
}

// SubjectAltName is one name a backend certificate may carry (gateway_tls): a DNS
// Hostname ("*.x" for one label) or a URI compared exactly.
type SubjectAltName struct {
	Hostname string `json:"hostname,omitempty"`
	URI      string `json:"uri,omitempty"`
}

// Upstream is one dial address ("host:port" or "unix//path").
type Upstream struct {
	Dial string `json:"dial"`
}

// LoadBalancing selects upstreams and retries (reverseproxy.LoadBalancing).
type LoadBalancing struct {
	SelectionPolicy *SelectionPolicy `json:"selection_policy,omitempty"`
	// Retries is how many times a failed attempt is retried (with the next upstream the
	// policy selects). Attempts that could not connect are always retried; others only
	// for GET, or when RetryMatch matches.
	Retries int `json:"retries,omitempty"`
	// TryDuration stops retrying once this long has passed since the first attempt.
	TryDuration string `json:"try_duration,omitempty"`
	// TryInterval is the wait before each retry (duration string).
	TryInterval string `json:"try_interval,omitempty"`
	// RetryMatch are matcher sets deciding retries; sets with an expression reading
	// response placeholders are evaluated on every upstream response.
	RetryMatch []MatcherSet `json:"retry_match,omitempty"`
}

// SelectionPolicy is a selection policy module; Weights align with Upstreams.
type SelectionPolicy struct {
	Policy string `json:"policy"`
	// Key names the split for the operator's "gateway_smooth" policy
	// (internal/caddymod/smooth): configs with the same key and weights continue one
	// sequence of picks across reloads.
	Key     string `json:"key,omitempty"`
	Weights []int  `json:"weights,omitempty"`
}

// ProxyHeaders modifies headers to and from the upstream.
type ProxyHeaders struct {
	Request *HeaderOps `json:"request,omitempty"`
}

// TLSApp is caddytls.TLS.
type TLSApp struct {
	Certificates *Certificates `json:"certificates,omitempty"`
	// Automation says how managed certificates are obtained and renewed.
	Automation *TLSAutomation `json:"automation,omitempty"`
}

// Certificates holds certificate loaders.
type Certificates struct {
	LoadPEM []PEMCertificate `json:"load_pem,omitempty"`
	// Automate are names whose certificates Caddy obtains ahead and keeps renewed.
	Automate []string `json:"automate,omitempty"`
}

// PEMCertificate is one inline certificate; Tags select it in connection policies.
type PEMCertificate struct {
	Certificate string   `json:"certificate"`
	Key         string   `json:"key"`
	Tags        []string `json:"tags,omitempty"`
}

// TLSConnectionPolicy is caddytls.ConnectionPolicy.
type TLSConnectionPolicy struct {
	Match                *TLSMatch             `json:"match,omitempty"`
	CertificateSelection *CertificateSelection `json:"certificate_selection,omitempty"`
	// ClientAuthentication asks clients for a certificate and verifies it.
	ClientAuthentication *ClientAuthentication `json:"client_authentication,omitempty"`
	// CipherSuites are the TLS 1.2 cipher suites allowed, by crypto/tls name; Caddy's
	// defaults when empty.
	CipherSuites []string `json:"cipher_suites,omitempty"`
	// ProtocolMin is the least TLS version, "tls1.2" or "tls1.3"; Caddy's default is
	// tls1.2.
	ProtocolMin string `json:"protocol_min,omitempty"`
}

// ClientAuthentication is caddytls.ClientAuthentication.
type ClientAuthentication struct {
	// CA is the pool of trusted CA certificates (a tls.ca_pool.source module).
	CA *CAPool `json:"ca,omitempty"`
	// Mode is "request", "require", "verify_if_given" or "require_and_verify" (the
	// default when CA is set).
	Mode string `json:"mode,omitempty"`
}

// CAPool is a tls.ca_pool.source module; Provider "inline" takes TrustedCACerts.
type CAPool struct {
	Provider string `json:"provider"`
	// TrustedCACerts are base64 DER certificates.
	TrustedCACerts []string `json:"trusted_ca_certs,omitempty"`
}

// TLSMatch holds handshake matchers.
type TLSMatch struct {
	SNI       []string `json:"sni,omitempty"`
	SNIRegexp *Regexp  `json:"sni_regexp,omitempty"`
}

// CertificateSelection is caddytls.CustomCertSelectionPolicy.
type CertificateSelection struct {
	AnyTag []string `json:"any_tag,omitempty"`
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HTTPProtocol is a protocol Caddy's HTTP servers speak.
// +kubebuilder:validation:Enum=h1;h2;h3;h2c
type HTTPProtocol string

// LogLevel is the level of Caddy's logs.
// +kubebuilder:validation:Enum=DEBUG;INFO;WARN;ERROR
type LogLevel string

// CaddyRuntimeSpec holds settings rendered into every configuration pushed to Caddy.
type CaddyRuntimeSpec struct {
	// GracePeriod bounds how long a configuration reload waits for active connections to
	// finish (apps.http.grace_period). Caddy's own default waits forever, which would let
	// one long-lived stream block every reload. Default: 15s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`

	// ShutdownDelay keeps every listener of a terminating Caddy pod (HTTP, TLS, TCP and
	// UDP) accepting this long after it is told to stop, so that kube-proxy and load
	// balancers stop sending it new connections before it refuses them; then in-flight
	// requests get gracePeriod. A config change is never held by it. 0s closes every
	// listener the moment the pod is told to stop. Default: 10s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	ShutdownDelay *metav1.Duration `json:"shutdownDelay,omitempty"`

	// StreamCloseDelay is kept so that existing objects stay valid; it has no effect.
	// WebSockets and other upgraded streams of HTTP routes stay open across route changes
	// and config reloads until they end: each keeps the handlers it started on.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	StreamCloseDelay *metav1.Duration `json:"streamCloseDelay,omitempty"`

	// Protocols the HTTP servers of the listeners speak (server protocols). h1 is required.
	// h2 is HTTP/2 over TLS and, by prior knowledge, over cleartext; h2c is HTTP/2 over
	// cleartext (what gRPC clients speak without TLS); h3 serves HTTP/3 (QUIC) on HTTPS
	// ports and publishes UDP ports for HTTPS listeners. Default: Caddy's (h1, h2, h3;
	// UDP ports are published only when h3 is listed).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:XValidation:rule="self.exists(p, p == 'h1')",message="caddy.protocols must include h1: Caddy serves h2 and h2c only alongside HTTP/1.1"
	Protocols []HTTPProtocol `json:"protocols,omitempty"`

	// Timeouts of the HTTP servers.
	// +optional
	Timeouts *ServerTimeouts `json:"timeouts,omitempty"`

	// UDPSessionIdleTimeout ends a session of a UDP listener (the datagrams of one
	// client address and port, proxied through one socket to one backend) after this
	// long without a datagram either way; the client's next datagram starts a new
	// session, which may reach another backend. Default: 30s (caddy-l4's); 0 keeps it.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	UDPSessionIdleTimeout *metav1.Duration `json:"udpSessionIdleTimeout,omitempty"`

	// TrustedProxies are CIDRs whose forwarded-for headers Caddy trusts for the client
	// address (server trusted_proxies): the X-Forwarded-For of a trusted peer reaches
	// backends with the peer appended, that of any other peer is replaced by the peer's
	// address. The client address is the rightmost address of the header that is not a
	// trusted proxy (trusted_proxies_strict), which a client cannot forge.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(r, isCIDR(r))",message="caddy.trustedProxies entries must be CIDRs such as 10.0.0.0/8"
	TrustedProxies []string `json:"trustedProxies,omitempty"`

	// ProxyProtocol accepts the PROXY protocol from load balancers in front of Caddy.
	// +optional
	ProxyProtocol *ProxyProtocolSpec `json:"proxyProtocol,omitempty"`

	// TLS settings of HTTPS listeners.
	// +optional
	TLS *TLSSettings `json:"tls,omitempty"`

	// LogLevel of Caddy's logs. Default: INFO.
	// +optional
	LogLevel *LogLevel `json:"logLevel,omitempty"`

	// AccessLogs configures access logs.
	// +optional
	AccessLogs *AccessLogSpec `json:"accessLogs,omitempty"`

	// Metrics configures Caddy's Prometheus metrics, served on their own port (the admin
	// endpoint stays closed).
	// +optional
	Metrics *MetricsSpec `json:"metrics,omitempty"`
}

// ServerTimeouts are the timeouts of Caddy's HTTP servers. Zero disables a timeout.
type ServerTimeouts struct {
	// ReadHeader bounds reading request headers. Default: 1m (Caddy's).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	ReadHeader *metav1.Duration `json:"readHeader,omitempty"`
	// Read bounds reading a whole request. Default: 0 (none).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Read *metav1.Duration `json:"read,omitempty"`
	// Write bounds writing a response. Default: 0 (none).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Write *metav1.Duration `json:"write,omitempty"`
	// Idle bounds keep-alive idleness. Default: 5m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Idle *metav1.Duration `json:"idle,omitempty"`
}

// ProxyProtocolSpec accepts the PROXY protocol on every listener.
type ProxyProtocolSpec struct {
	// Allow lists the CIDRs allowed to send a PROXY header (v1 or v2), whose address then
	// becomes the client address; a header from any other peer is read and ignored.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(r, isCIDR(r))",message="caddy.proxyProtocol.allow entries must be CIDRs such as 10.0.0.0/8"
	Allow []string `json:"allow"`

	// Timeout for reading the PROXY header. Default: 5s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// TLSSettings of HTTPS listeners.
// +kubebuilder:validation:XValidation:rule="!(has(self.minVersion) && self.minVersion == '1.3' && has(self.cipherSuites) && size(self.cipherSuites) > 0)",message="caddy.tls.cipherSuites must be empty when caddy.tls.minVersion is 1.3: TLS 1.3 cipher suites are fixed"
type TLSSettings struct {
	// MinVersion of TLS. Default: "1.2".
	// +optional
	// +kubebuilder:validation:Enum="1.2";"1.3"
	MinVersion *string `json:"minVersion,omitempty"`

	// CipherSuites allowed for TLS 1.2, by their IANA names: the TLS 1.2 suites Go's
	// crypto/tls supports and deems secure (TLS 1.3 suites are fixed, so none may be
	// given with minVersion 1.3). Default: Caddy's defaults.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:Enum=TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA;TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA;TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA;TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA;TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	CipherSuites []string `json:"cipherSuites,omitempty"`
}

// AccessLogFormat is the encoding of access logs.
// +kubebuilder:validation:Enum=json;console
type AccessLogFormat string

// AccessLogSpec configures access logs.
type AccessLogSpec struct {
	// Enabled writes one log line per request to stdout. Default: false.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// Format of the access log. Default: json.
	// +optional
	Format *AccessLogFormat `json:"format,omitempty"`
}

// MetricsSpec configures Caddy's metrics endpoint.
type MetricsSpec struct {
	// Enabled serves /metrics on Port, in Prometheus text, with request counts and
	// durations of every listener. Default: true.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// Port of the metrics server; it must differ from every listener port, the admin port
	// and the readiness port (9181). Default: 9180.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`
}

package ir

// BackendTLS is how the proxy speaks TLS to one backend (a BackendTLSPolicy targeting
// its Service port). Verification is never skipped: a backend whose policy cannot be
// resolved is Invalid instead.
type BackendTLS struct {
	// ServerName is sent as SNI. Without SubjectAltNames it is also the name the
	// backend's certificate must carry.
	ServerName string `json:"serverName"`
	// TrustedCAs are the CA certificates (PEM, one certificate per entry, in policy
	// reference order) the backend's chain must end in.
	TrustedCAs []string `json:"trustedCAs,omitempty"`
	// SystemCAs trusts the system's roots (wellKnownCACertificates: System) instead of
	// TrustedCAs.
	SystemCAs bool `json:"systemCAs,omitempty"`
	// SubjectAltNames, when set, replace ServerName in verification: the certificate
	// must carry at least one of them.
	SubjectAltNames []SubjectAltName `json:"subjectAltNames,omitempty"`
	// ClientCertificate names the Gateway certificate (in Gateway.Certificates) the
	// proxy presents to the backend (Gateway spec.tls.backend.clientCertificateRef);
	// empty presents none.
	ClientCertificate string `json:"clientCertificate,omitempty"`
}

// SubjectAltName is one name a backend certificate may carry.
type SubjectAltName struct {
	// Hostname is a DNS name, exact or "*.suffix" (one label); set when URI is not.
	Hostname string `json:"hostname,omitempty"`
	// URI is an absolute URI, compared exactly; set when Hostname is not.
	URI string `json:"uri,omitempty"`
}

package ir

// ClientValidation asks TLS clients for a certificate and verifies it against
// trusted CAs (Gateway spec.tls.frontend validation).
type ClientValidation struct {
	// TrustedCAs are the CA certificates, base64 DER, in reference order.
	TrustedCAs []string `json:"trustedCAs"`
	// Optional accepts connections without a certificate or with one that fails
	// verification (AllowInsecureFallback); false requires a valid one.
	Optional bool `json:"optional,omitempty"`
}

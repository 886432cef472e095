package ir

// ACME is how a Gateway's Caddy pods obtain and renew automatic certificates
// (Gateway.ACME, set when at least one listener asks for them). Every pod of the
// Gateway shares one certificate and account storage, so one order serves them all.
type ACME struct {
	// Directory is the ACME directory URL of the CA.
	Directory string `json:"directory"`
	// Email is the account's contact address; empty registers without one.
	Email string `json:"email,omitempty"`
	// ExternalAccount binds the ACME account to an account the CA already knows (EAB).
	ExternalAccount *ACMEExternalAccount `json:"externalAccount,omitempty"`
	// TrustedRootsPEM are the CA certificates (PEM) the client trusts for the directory
	// of a private CA; empty trusts the system's roots.
	TrustedRootsPEM string `json:"trustedRootsPEM,omitempty"`
	// Challenges are the challenge types the Gateway can answer, in the order of
	// ACMEChallenge*: HTTP-01 only with an HTTP listener on port 80, TLS-ALPN-01 only
	// on port 443.
	Challenges []string `json:"challenges"`
}

// ACMEExternalAccount is an External Account Binding: the key ID and the MAC key
// (base64url, as the CA hands it out) resolved from its Secret.
type ACMEExternalAccount struct {
	KeyID  string `json:"keyID"`
	MACKey string `json:"macKey"`
}

// ACME challenge types (ACME.Challenges).
const (
	ACMEChallengeHTTP01    = "http-01"
	ACMEChallengeTLSALPN01 = "tls-alpn-01"
)

// AutomaticCertificates are the certificates an HTTPS listener obtains over ACME
// (Listener.Automatic). They are presented only when the listener has no resolved
// certificateRefs: certificates from Secrets win, and automatic ones are the fallback.
type AutomaticCertificates struct {
	// Names are the exact hostnames obtained ahead and kept renewed (the listener's
	// exact hostname); empty with OnDemand.
	Names []string `json:"names,omitempty"`
	// OnDemand obtains a certificate at the first handshake for a server name under the
	// listener's hostname (a wildcard, or empty for any), and only for one that is the
	// exact hostname of a route attached to the listener: never for an arbitrary SNI.
	OnDemand bool `json:"onDemand,omitempty"`
}

package v1alpha1

// DefaultACMEDirectory is the directory used when spec.acme.directory is unset: Let's
// Encrypt's production CA.
const DefaultACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// ACMESpec says how a Gateway's Caddy pods obtain and renew automatic certificates
// over ACME. It applies to the HTTPS listeners whose tls.options ask for them
// (caddygateway.io/automatic-certificates: "true"); it has no effect on a Gateway
// without such a listener. Every Caddy pod of the Gateway shares one account and
// certificate storage in the Gateway's namespace, so one order serves all replicas.
type ACMESpec struct {
	// Directory is the ACME directory URL of the CA, an https URL. Default:
	// Let's Encrypt production, https://acme-v02.api.letsencrypt.org/directory
	// (staging: https://acme-staging-v02.api.letsencrypt.org/directory).
	// +optional
	// +kubebuilder:validation:MinLength=9
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="acme.directory must be an https URL"
	Directory *string `json:"directory,omitempty"`

	// Email is the contact address of the ACME account; the CA may send expiry notices
	// to it. Default: none (the account is registered without a contact).
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+$`
	Email *string `json:"email,omitempty"`

	// ExternalAccountBinding binds the ACME account to an account the CA already knows
	// (required by ZeroSSL, Google Trust Services and many private CAs). Default: none.
	// A Gateway-level value replaces the class-level one as a whole.
	// +optional
	ExternalAccountBinding *ACMEExternalAccountBinding `json:"externalAccountBinding,omitempty"`

	// TrustedCARef names the CA certificates (PEM) that sign the TLS certificate of the
	// directory of a private ACME CA, in the Gateway's namespace. Default: the system's
	// roots. A Gateway-level value replaces the class-level one as a whole.
	// +optional
	TrustedCARef *ACMETrustedCARef `json:"trustedCARef,omitempty"`

	// Challenges are the challenge types the CA may use. A challenge the Gateway cannot
	// answer is not offered: HTTP01 needs an HTTP listener on port 80 of the Gateway,
	// TLSALPN01 needs the listener on port 443; a listener left with none is refused.
	// Default: both.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	Challenges []ACMEChallenge `json:"challenges,omitempty"`
}

// ACMEChallenge is an ACME challenge type.
// +kubebuilder:validation:Enum=HTTP01;TLSALPN01
type ACMEChallenge string

// ACME challenge types.
const (
	// ACMEChallengeHTTP01 is HTTP-01: the CA fetches a token over plain HTTP on port 80.
	ACMEChallengeHTTP01 ACMEChallenge = "HTTP01"
	// ACMEChallengeTLSALPN01 is TLS-ALPN-01: the CA makes a TLS handshake on port 443.
	ACMEChallengeTLSALPN01 ACMEChallenge = "TLSALPN01"
)

// ACMEExternalAccountBinding is an External Account Binding (RFC 8555 section 7.3.4).
type ACMEExternalAccountBinding struct {
	// KeyID is the key identifier the CA gave for the external account.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	KeyID string `json:"keyID"`

	// MACKeySecretRef names the key of a Secret, in the Gateway's namespace, that holds
	// the MAC key (base64url, as the CA hands it out).
	MACKeySecretRef SecretKeyReference `json:"macKeySecretRef"`
}

// SecretKeyReference names one key of a Secret in the Gateway's namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// ACMETrustedCARef names a ConfigMap or Secret key holding PEM CA certificates.
type ACMETrustedCARef struct {
	// Kind of the object: ConfigMap or Secret.
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Name of the object, in the Gateway's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key holding the PEM certificates. Default: ca.crt.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key *string `json:"key,omitempty"`
}

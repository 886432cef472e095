// Package certs holds the certificates of the mTLS admin channel between the operator and
// each Gateway's admin-proxy sidecar: the names and identities both sides agree on, the
// built-in CA used when cert-manager is not installed, and the cert-manager objects of the
// default chain.
//
// Everything here is pure: callers pass the clock and read or write the Secrets. Key
// generation always uses crypto/rand (since Go 1.26 the crypto packages ignore a caller's
// random source for keys); the injected reader only feeds serial numbers.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"time"
)

// Names and identities shared by the certificate issuer (cert-manager objects rendered by
// this package, or the built-in CA), the admin-proxy (which verifies) and the operator's
// pusher (which dials).
const (
	// OperatorCommonName is the subject common name of the operator's client certificate.
	// It is informational: the admin-proxy authorises OperatorURI.
	OperatorCommonName = "caddy-gateway-operator"
	// OperatorURI is the URI SAN that identifies the operator. The admin-proxy accepts a
	// client certificate only when it chains to the Gateway's CA and carries this URI.
	OperatorURI = "spiffe://caddygateway.io/operator"

	// Secret data keys, identical to the ones cert-manager writes.
	SecretCertKey = "tls.crt"
	SecretKeyKey  = "tls.key"
	SecretCAKey   = "ca.crt"

	// DefaultDuration of server and client certificates (controlPlane.tls.duration).
	DefaultDuration = 90 * 24 * time.Hour
	// DefaultRenewBefore of server and client certificates (controlPlane.tls.renewBefore).
	DefaultRenewBefore = 30 * 24 * time.Hour
	// CADuration of the per-Gateway CA. It is long because a renewed CA invalidates every
	// certificate it signed until they are reissued.
	CADuration = 10 * 365 * 24 * time.Hour
	// CARenewBefore of the per-Gateway CA.
	CARenewBefore = 365 * 24 * time.Hour

	// backdate absorbs clock skew between the operator and the pods.
	backdate = 5 * time.Minute
)

// ServerName is the DNS SAN of the admin-proxy's server certificate for a Gateway, and the
// TLS ServerName the operator sets when it dials a Caddy pod's IP.
func ServerName(gateway, namespace string) string {
	return "caddy-admin." + gateway + "." + namespace
}

// KeyPair is a certificate with its private key, parsed and PEM-encoded.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// IssueOptions are the inputs every issuing function needs.
type IssueOptions struct {
	// Now is the issuance time; NotBefore is slightly earlier to absorb clock skew.
	Now time.Time
	// Duration is the validity from Now. Zero means DefaultDuration (CADuration for a CA).
	Duration time.Duration
	// Rand feeds serial numbers. Nil means crypto/rand.
	Rand io.Reader
}

// NewCA creates a self-signed ECDSA P-256 CA named commonName.
func NewCA(commonName string, o IssueOptions) (*KeyPair, error) {
	if o.Duration == 0 {
		o.Duration = CADuration
	}
	tmpl, err := template(commonName, o)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	return sign(tmpl, nil)
}

// IssueServer issues the admin-proxy's server certificate for serverName (see ServerName).
func (ca *KeyPair) IssueServer(serverName string, o IssueOptions) (*KeyPair, error) {
	tmpl, err := template(serverName, o)
	if err != nil {
		return nil, err
	}
	tmpl.DNSNames = []string{serverName}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return sign(tmpl, ca)
}

// IssueClient issues the operator's client certificate (OperatorCommonName, OperatorURI).
func (ca *KeyPair) IssueClient(o IssueOptions) (*KeyPair, error) {
	u, err := url.Parse(OperatorURI)
	if err != nil {
		return nil, err
	}
	return ca.IssueClientFor(OperatorCommonName, []*url.URL{u}, o)
}

// IssueClientFor issues a client certificate with any subject and URI SANs. Tests use it
// to build certificates the admin-proxy must refuse.
func (ca *KeyPair) IssueClientFor(commonName string, uris []*url.URL, o IssueOptions) (*KeyPair, error) {
	tmpl, err := template(commonName, o)
	if err != nil {
		return nil, err
	}
	tmpl.URIs = uris
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return sign(tmpl, ca)
}

func template(commonName string, o IssueOptions) (*x509.Certificate, error) {
	if o.Now.IsZero() {
		return nil, errors.New("certs: IssueOptions.Now is required")
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	r := o.Rand
	if r == nil {
		r = rand.Reader
	}
	serial, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), // never zero
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    o.Now.Add(-backdate).UTC(),
		NotAfter:     o.Now.Add(o.Duration).UTC(),
	}, nil
}

// sign creates the certificate; a nil parent means self-signed.
func sign(tmpl *x509.Certificate, parent *KeyPair) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	parentCert, signer := tmpl, key
	if parent != nil {
		parentCert, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// SecretData returns the data of a kubernetes.io/tls Secret holding kp, issued by ca, in
// cert-manager's shape. For the CA itself pass the CA twice.
func SecretData(kp, ca *KeyPair) map[string][]byte {
	return map[string][]byte{
		SecretCertKey: kp.CertPEM,
		SecretKeyKey:  kp.KeyPEM,
		SecretCAKey:   ca.CertPEM,
	}
}

// ParseKeyPair parses a PEM certificate (the first block is used) and its ECDSA key, and
// checks that they belong together.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM block in private key")
	}
	key, err := parseECKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match certificate")
	}
	return &KeyPair{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseECKey(der []byte) (*ecdsa.PrivateKey, error) {
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want ECDSA", k)
	}
	return ek, nil
}

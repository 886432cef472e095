// Package certs holds the certificates of the mTLS admin channel between the operator and
// each Gateway's admin-proxy sidecar: the names and identities both sides agree on, the
// built-in CA used when cert-manager is not installed, the cert-manager objects of the
// default chain, and the trust bundle that carries the channel across a CA rotation.
//
// Identity: the operator's client certificate for a Gateway carries the URI SAN
// OperatorIdentity(namespace, name), and that Gateway's admin-proxy is started with it
// (--identity, rendered by internal/infra) and accepts no other. A Gateway's client
// certificate therefore opens no other Gateway's admin API, even when one issuer
// (controlPlane.tls.issuerRef) signs the certificates of many Gateways.
//
// Placement: the CA (its key), the operator's client certificate, the leaf Secrets
// cert-manager or the built-in CA fill and the trust bundle all live in the operator's
// namespace, under names unique per Gateway (NamesFor). Only a copy of the server
// certificate, its key and the trust bundle (ServerSecret; never a CA key) is written
// into the Gateway's namespace, where the Caddy pods mount it.
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
	// OperatorURI is the identity an admin-proxy started without --identity requires. The
	// operator issues no certificate carrying it: each of its client certificates names
	// one Gateway (OperatorIdentity). Test harnesses use it.
	OperatorURI = "spiffe://caddygateway.io/operator"
	// identityPrefix starts every per-Gateway identity.
	identityPrefix = "spiffe://caddygateway.io/ns/"

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

// OperatorIdentity is the URI SAN of the operator's client certificate for the Gateway
// namespace/name: spiffe://caddygateway.io/ns/<namespace>/gateway/<name>. Namespace and
// Gateway names are DNS names (no '/'), so distinct Gateways never share an identity.
func OperatorIdentity(namespace, gateway string) string {
	return identityPrefix + namespace + "/gateway/" + gateway
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

// IssueClient issues a client certificate with the generic OperatorURI, which only an
// admin-proxy started without an identity accepts (test harnesses).
func (ca *KeyPair) IssueClient(o IssueOptions) (*KeyPair, error) {
	return ca.issueOperator(OperatorURI, o)
}

// IssueGatewayClient issues the operator's client certificate for the Gateway
// namespace/name (OperatorCommonName, OperatorIdentity).
func (ca *KeyPair) IssueGatewayClient(namespace, gateway string, o IssueOptions) (*KeyPair, error) {
	return ca.issueOperator(OperatorIdentity(namespace, gateway), o)
}

func (ca *KeyPair) issueOperator(identity string, o IssueOptions) (*KeyPair, error) {
	u, err := url.Parse(identity)
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

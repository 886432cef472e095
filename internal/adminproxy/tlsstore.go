package adminproxy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/caddy-gateway/operator/internal/certs"
)

// material is one consistent set of TLS files and the handshake configuration made of it.
type material struct {
	raw  [3][]byte // tls.crt, tls.key, ca.crt as read
	cert tls.Certificate
	cas  *x509.CertPool
	// config is what every handshake under this material uses. It resumes sessions with
	// a ticket key of its own, so a session from an earlier material never resumes: the
	// first connection after a rotation is a full handshake against the new CA.
	config *tls.Config
}

// tlsStore holds the current server certificate and client CA bundle read from a
// directory (a mounted kubernetes.io/tls Secret) and swaps them atomically on reload.
type tlsStore struct {
	dir      string
	identity string
	cur      atomic.Pointer[material]
	mu       sync.Mutex // serialises reloads
}

func newTLSStore(dir, identity string) (*tlsStore, error) {
	s := &tlsStore{dir: dir, identity: identity}
	if _, err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the files and swaps them in when they changed and are consistent. A
// half-updated directory (a certificate that does not match its key) is an error and
// leaves the previous material in place; the next poll tries again.
func (s *tlsStore) reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var raw [3][]byte
	for i, name := range []string{certs.SecretCertKey, certs.SecretKeyKey, certs.SecretCAKey} {
		b, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return false, fmt.Errorf("read TLS material: %w", err)
		}
		raw[i] = b
	}
	if old := s.cur.Load(); old != nil && slices.EqualFunc(old.raw[:], raw[:], bytes.Equal) {
		return false, nil
	}
	cert, err := tls.X509KeyPair(raw[0], raw[1])
	if err != nil {
		return false, fmt.Errorf("load %s and %s from %s: %w", certs.SecretCertKey, certs.SecretKeyKey, s.dir, err)
	}
	cas := x509.NewCertPool()
	if !cas.AppendCertsFromPEM(raw[2]) {
		return false, fmt.Errorf("%s in %s holds no PEM certificate", certs.SecretCAKey, s.dir)
	}
	m := &material{raw: raw, cert: cert, cas: cas}
	if m.config, err = s.handshakeConfig(m); err != nil {
		return false, err
	}
	s.cur.Store(m)
	return true, nil
}

// handshakeConfig is the tls.Config of the handshakes under m. A client may resume a
// session it got under m (the operator does, to save each push a full handshake): Go
// checks the session's verified chain against m's CA again, and its client certificate's
// expiry, and verifyIdentity runs on resumed connections too.
func (s *tlsStore) handshakeConfig(m *material) (*tls.Config, error) {
	c := &tls.Config{
		MinVersion:       tls.VersionTLS13,
		NextProtos:       []string{"http/1.1"},
		Certificates:     []tls.Certificate{m.cert},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        m.cas,
		VerifyConnection: s.verifyIdentity,
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("making a session ticket key: %w", err)
	}
	c.SetSessionTicketKeys([][32]byte{key})
	return c, nil
}

// serverConfig is the base tls.Config of the listener: every handshake gets the config of
// the current material, so rotated files apply to new connections without a restart.
func (s *tlsStore) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{"http/1.1"},
		ClientAuth: tls.RequireAndVerifyClientCert,
		// Tickets are the material's (handshakeConfig), never the listener's.
		SessionTicketsDisabled: true,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load().config, nil
		},
	}
}

// verifyIdentity runs after chain verification: the leaf must carry the operator's URI SAN.
func (s *tlsStore) verifyIdentity(cs tls.ConnectionState) error {
	if !hasIdentity(cs, s.identity) {
		return errors.New("client certificate does not carry the operator identity")
	}
	return nil
}

func hasIdentity(cs tls.ConnectionState, identity string) bool {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return false
	}
	for _, u := range cs.VerifiedChains[0][0].URIs {
		if u.String() == identity {
			return true
		}
	}
	return false
}

package adminproxy

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/certs"
)

// TestGatewayIdentityAndTrustBundle runs the admin-proxy of Gateway infra/web the way its
// pod does: --identity names the Gateway and ca.crt is a trust bundle of two CAs (a
// rotation under way). The operator's certificate for infra/web is accepted whichever CA
// of the bundle signed it; the certificate of a sibling Gateway is refused in the
// handshake although the same CA signed it (one issuer shared by many Gateways).
func TestGatewayIdentityAndTrustBundle(t *testing.T) {
	now := time.Now()
	o := certs.IssueOptions{Now: now}
	oldCA, err := certs.NewCA("old-ca", certs.IssueOptions{Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	newCA, err := certs.NewCA("new-ca", o)
	if err != nil {
		t.Fatal(err)
	}
	serverName := certs.ServerName("web", "infra")
	server, err := oldCA.IssueServer(serverName, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle := certs.TrustBundle(oldCA.CertPEM, [][]byte{newCA.CertPEM}, now)
	for name, data := range map[string][]byte{
		certs.SecretCertKey: server.CertPEM, certs.SecretKeyKey: server.KeyPEM, certs.SecretCAKey: bundle,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// No Caddy behind it: a request that passes the handshake gets 502 from the proxy.
	addr := startProxy(t, Options{TLSDir: dir, Socket: filepath.Join(shortTempDir(t), "none.sock"),
		Identity: certs.OperatorIdentity("infra", "web"), Logger: quietLogger()})

	issue := func(ca *certs.KeyPair, ns, gw string) *certs.KeyPair {
		kp, err := ca.IssueGatewayClient(ns, gw, o)
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	tests := map[string]struct {
		client *certs.KeyPair
		alert  string // empty: accepted
	}{
		"own identity, new CA":           {client: issue(newCA, "infra", "web")},
		"own identity, previous CA":      {client: issue(oldCA, "infra", "web")},
		"sibling Gateway, same CA":       {client: issue(oldCA, "infra", "api"), alert: "tls: bad certificate"},
		"same name in another namespace": {client: issue(newCA, "other", "web"), alert: "tls: bad certificate"},
		"generic operator URI, same CA":  {client: mustClient(t, oldCA), alert: "tls: bad certificate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(bundle)
			cert := &tls.Certificate{Certificate: [][]byte{tc.client.Cert.Raw}, PrivateKey: tc.client.Key}
			c := &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS13,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }}
			resp, err := httpClient(c).Get("https://" + addr + "/config/")
			if tc.alert == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("status %d, want 502 (accepted, no Caddy behind)", resp.StatusCode)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("accepted with status %d", resp.StatusCode)
			}
			if !strings.Contains(err.Error(), tc.alert) {
				t.Fatalf("want the alert %q, got %v", tc.alert, err)
			}
		})
	}
}

func mustClient(t *testing.T, ca *certs.KeyPair) *certs.KeyPair {
	t.Helper()
	kp, err := ca.IssueClient(certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

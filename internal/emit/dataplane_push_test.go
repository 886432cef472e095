package emit_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/adminproxy"
	"github.com/caddy-gateway/operator/internal/certs"
)

// adminPush loads configs into the data plane's Caddy as the operator does: POST /load
// over mTLS to the real admin-proxy, which forwards to Caddy's admin socket.
type adminPush struct {
	url    string
	client *http.Client
}

// startAdminPush serves an admin-proxy in front of d's admin socket until the test ends.
func startAdminPush(t *testing.T, d *dataPlane) *adminPush {
	t.Helper()
	o := certs.IssueOptions{Now: time.Now()}
	ca, err := certs.NewCA("test-ca", o)
	if err != nil {
		t.Fatal(err)
	}
	serverName := certs.ServerName("gw", "default")
	server, err := ca.IssueServer(serverName, o)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient(o)
	if err != nil {
		t.Fatal(err)
	}
	tlsDir := t.TempDir()
	for name, data := range certs.SecretData(server, ca) {
		if err := os.WriteFile(filepath.Join(tlsDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := adminproxy.New(adminproxy.Options{TLSDir: tlsDir,
		Socket: strings.TrimPrefix(d.opts.AdminListen, "unix/"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin-proxy: %v", err)
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	cert := tls.Certificate{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}
	return &adminPush{url: "https://" + ln.Addr().String() + "/load", client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName,
			Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}}}}
}

// load pushes a config and fails the test unless Caddy accepted it.
func (p *adminPush) load(t *testing.T, cfg []byte) {
	t.Helper()
	resp, err := p.client.Post(p.url, "application/json", bytes.NewReader(cfg))
	if err != nil {
		t.Fatalf("POST /load: %v", err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /load: %d %s", resp.StatusCode, body)
	}
}

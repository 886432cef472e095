// Package proxytest runs the real admin-proxy in tests of other packages: on 127.0.0.1,
// in front of a Caddy admin socket, with certificates written as the mounted Secret
// would hold them. It is for tests only.
package proxytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddy-gateway/operator/internal/adminproxy"
	"github.com/caddy-gateway/operator/internal/certs"
)

// Start writes server and ca into tlsDir as the admin Secret's files, serves an
// admin-proxy forwarding to the unix socket sock until t ends, and returns its address.
func Start(t testing.TB, server, ca *certs.KeyPair, tlsDir, sock string) *net.TCPAddr {
	t.Helper()
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range certs.SecretData(server, ca) {
		if err := os.WriteFile(filepath.Join(tlsDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := adminproxy.New(adminproxy.Options{
		TLSDir: tlsDir, Socket: sock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
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
	return ln.Addr().(*net.TCPAddr)
}

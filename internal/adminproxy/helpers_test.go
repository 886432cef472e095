package adminproxy

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// startProxy serves an admin-proxy on 127.0.0.1 until the test ends and returns its address.
func startProxy(t *testing.T, o Options) string {
	t.Helper()
	if o.ReloadInterval == 0 {
		o.ReloadInterval = 50 * time.Millisecond
	}
	srv, err := New(o)
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
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

package emit_test

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSharedListenPort: two listening sockets of the process on one port, as Caddy holds
// them during a handoff, are found; once one is closed, none is.
func TestSharedListenPort(t *testing.T) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); err != nil {
			return err
		}
		return serr
	}}
	old, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	port := old.Addr().(*net.TCPAddr).Port
	if got, err := sharedListenPort(); err != nil || got != 0 {
		t.Fatalf("with one listening socket: port %d, error %v; want none", got, err)
	}
	replacement, err := lc.Listen(context.Background(), "tcp", old.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer replacement.Close()
	if got, err := sharedListenPort(); err != nil || got != port {
		t.Fatalf("with two listening sockets on %d: port %d, error %v", port, got, err)
	}
	_ = old.Close()
	if got, err := sharedListenPort(); err != nil || got != 0 {
		t.Fatalf("after the old socket closed: port %d, error %v; want none", got, err)
	}
}

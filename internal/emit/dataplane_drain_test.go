package emit_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
)

// TestDataPlaneExitKeepsEveryListenerAccepting: with a shutdown delay, a Caddy whose
// config stops with none after it (the process exiting on SIGTERM) keeps accepting
// connections on its HTTP listener and on its layer4 TCP listener, which its app closes
// the moment it stops, for the delay; then both close.
func TestDataPlaneExitKeepsEveryListenerAccepting(t *testing.T) {
	p := freeTCPPorts(t)
	d := startDataPlaneWith(t, tcpFixtureAt(p, 0), map[string]string{}, emit.Options{ShutdownDelay: "3s"})
	ports := []int{d.listenPort, p.echo}
	dial := func(port int) error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	for _, port := range ports {
		if err := dial(port); err != nil {
			t.Fatalf("port %d before the stop: %v", port, err)
		}
	}
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		_ = caddy.Stop()
	}()
	for time.Since(start) < time.Second {
		for _, port := range ports {
			if err := dial(port); err != nil {
				t.Fatalf("%s after the stop began, port %d refused a connection: %v", time.Since(start).Round(time.Millisecond), port, err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-stopped
	for _, port := range ports {
		if err := dial(port); err == nil {
			t.Errorf("port %d still accepts connections once the stop is over", port)
		}
	}
}

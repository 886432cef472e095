package drain_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4"

	_ "github.com/caddy-gateway/operator/internal/caddymod/drain"
	"github.com/caddy-gateway/operator/internal/testports"
)

// config is a Caddy config with a layer4 TCP listener (echo) on l4 and an HTTP one on
// web when web is not 0, and gateway_drain subscribed to "stopping" with delay.
func config(l4, web int, delay string) []byte {
	servers := `{}`
	if web != 0 {
		servers = fmt.Sprintf(`{"web":{"listen":["127.0.0.1:%d"],"routes":[{"handle":[{"handler":"static_response","body":"ok"}]}]}}`, web)
	}
	return fmt.Appendf(nil, `{
	"admin": {"disabled": true},
	"apps": {
		"http": {"servers": %s},
		"layer4": {"servers": {"tcp": {"listen": ["127.0.0.1:%d"], "routes": [{"handle": [{"handler": "echo"}]}]}}},
		"events": {"subscriptions": [{"events": ["stopping"], "handlers": [{"handler": "gateway_drain", "delay": %q}]}]}
	}}`, servers, l4, delay)
}

func dial(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		_ = c.Close()
	}
	return err
}

// TestStopIsHeldWhileListenersAccept: when the running config stops (the process exiting
// on SIGTERM), the layer4 app's TCP listener, which closes the moment its app stops, and
// the HTTP listener keep accepting connections for the delay; then both close.
func TestStopIsHeldWhileListenersAccept(t *testing.T) {
	l4, web := testports.Port(t), testports.Port(t)
	if err := caddy.Load(config(l4, web, "3s"), true); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		_ = caddy.Stop()
	}()
	for time.Since(start) < time.Second {
		for _, port := range []int{l4, web} {
			if err := dial(port); err != nil {
				t.Fatalf("%s after the stop began, port %d refused a connection: %v", time.Since(start).Round(time.Millisecond), port, err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatalf("the stop ended after %s, before its 3s delay", time.Since(start).Round(time.Millisecond))
	default:
	}
	<-stopped
	for _, port := range []int{l4, web} {
		if err := dial(port); err == nil {
			t.Errorf("port %d still accepts connections once the stop is over", port)
		}
	}
}

// TestReloadIsNotHeld: a config reload that removes a listener is not held by the
// replaced config's delay (an hour here): the reload ends and the removed listener is
// closed.
func TestReloadIsNotHeld(t *testing.T) {
	l4, other := testports.Port(t), testports.Port(t)
	if err := caddy.Load(config(l4, 0, "1h"), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	if err := dial(l4); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- caddy.Load(config(other, 0, "10ms"), true) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the reload is held by the delay")
	}
	if err := dial(l4); err == nil {
		t.Errorf("the removed listener on port %d still accepts connections", l4)
	}
	if err := dial(other); err != nil {
		t.Errorf("the new listener: %v", err)
	}
}

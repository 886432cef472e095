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

// config is a Caddy config with a layer4 TCP listener (echo) on l4 and gateway_drain
// subscribed to "stopping" with delay. That the handler holds the exit of the process with
// every listener accepting is proven through a config the operator emits
// (internal/emit TestDataPlaneExitKeepsEveryListenerAccepting); this package proves what
// that test cannot see: a reload is never held.
func config(l4 int, delay string) []byte {
	return fmt.Appendf(nil, `{
	"admin": {"disabled": true},
	"apps": {
		"layer4": {"servers": {"tcp": {"listen": ["127.0.0.1:%d"], "routes": [{"handle": [{"handler": "echo"}]}]}}},
		"events": {"subscriptions": [{"events": ["stopping"], "handlers": [{"handler": "gateway_drain", "delay": %q}]}]}
	}}`, l4, delay)
}

func dial(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		_ = c.Close()
	}
	return err
}

// TestReloadIsNotHeld: a config reload that removes a listener is not held by the
// replaced config's delay (an hour here): the reload ends and the removed listener is
// closed.
func TestReloadIsNotHeld(t *testing.T) {
	l4, other := testports.Port(t), testports.Port(t)
	if err := caddy.Load(config(l4, "1h"), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	if err := dial(l4); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- caddy.Load(config(other, "10ms"), true) }()
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

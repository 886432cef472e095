package l4smooth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"github.com/mholt/caddy-l4/modules/l4proxy"
	"go.uber.org/zap"
)

// pipeConn is one end of an in-memory connection as caddy-l4 hands it to a selection,
// and the other end, which sees when it is closed.
type pipeConn struct {
	down *layer4.Connection
	peer net.Conn
}

func newPipeConn(t *testing.T) *pipeConn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return &pipeConn{down: layer4.WrapConnection(a, nil, zap.NewNop()), peer: b}
}

// closed reports whether the connection was closed within wait.
func (p *pipeConn) closed(wait time.Duration) bool {
	_ = p.peer.SetReadDeadline(time.Now().Add(wait))
	_, err := p.peer.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && (!errors.As(err, &ne) || !ne.Timeout())
}

// selectFor selects an upstream of pool for p until one of the upstream want is picked
// (the others' connections are dropped).
func selectFor(t *testing.T, s *Selection, pool l4proxy.UpstreamPool, want int) *pipeConn {
	t.Helper()
	for range 16 {
		p := newPipeConn(t)
		if pool[want] == s.Select(pool, p.down) {
			return p
		}
	}
	t.Fatalf("upstream %d never selected", want)
	return nil
}

// TestSelectionCutsConnectionsOfGoneBackends reloads the selection of a rule with two
// backends as configs change: its connections stay open while their backend stays in the
// rule, whatever the weights (weight 0 included), and are closed when the backend is
// removed from the rule, becomes invalid, or the rule goes.
func TestSelectionCutsConnectionsOfGoneBackends(t *testing.T) {
	const wait = 200 * time.Millisecond
	pool := testPool(2)
	s, unload := load(t, `{"key": "TCPRoute default/r/rule/0 a:7000 b:7000", "weights": [1, 1]}`)
	toA, toB := selectFor(t, s, pool, 0), selectFor(t, s, pool, 1)
	reload := func(raw string) {
		next, unloadNext := load(t, raw)
		unload()
		s, unload = next, unloadNext
	}

	for _, raw := range []string{
		`{"key": "TCPRoute default/r/rule/0 a:7000 b:7000", "weights": [1, 1]}`,
		`{"key": "TCPRoute default/r/rule/0 a:7000 b:7000", "weights": [3, 1]}`,
		`{"key": "TCPRoute default/r/rule/0 a:7000 b:7000", "weights": [1, 0]}`,
	} {
		reload(raw)
		if toA.closed(wait) || toB.closed(wait) {
			t.Fatalf("after loading %s: a connection of an unchanged rule and backend was closed", raw)
		}
	}

	reload(`{"key": "TCPRoute default/r/rule/0 a:7000 invalid", "weights": [1, 1]}`)
	if !toB.closed(time.Second) {
		t.Error("the connection to a backend that became invalid stayed open")
	}
	if toA.closed(wait) {
		t.Error("the connection to the backend that stayed valid was closed")
	}
	selectFor(t, s, pool, 1) // invalid: not tracked, and no panic

	reload(`{"key": "TCPRoute default/r/rule/0 b:7000", "weights": [1]}`)
	if !toA.closed(time.Second) {
		t.Error("the connection to a backend removed from its rule stayed open")
	}
	toB = selectFor(t, s, testPool(1), 0)

	reload(`{"key": "TCPRoute default/other/rule/0 b:7000", "weights": [1]}`)
	defer unload()
	if !toB.closed(time.Second) {
		t.Error("the connection of a removed rule stayed open")
	}
}

// TestSelectionWithoutKeyCutsOnReload: connections selected by a selection without a key
// cannot be told apart from the next config's, so they end with their config.
func TestSelectionWithoutKeyCutsOnReload(t *testing.T) {
	s, unload := load(t, `{"weights": [1]}`)
	p := selectFor(t, s, testPool(1), 0)
	_, unloadNext := load(t, `{"weights": [1]}`)
	defer unloadNext()
	unload()
	if !p.closed(time.Second) {
		t.Error("a connection of a keyless selection stayed open after its config was replaced")
	}
}

// TestSelectionForgetsEndedConnections: connections that end normally leave no entry
// behind once they are garbage.
func TestSelectionForgetsEndedConnections(t *testing.T) {
	s, unload := load(t, `{"key": "TCPRoute default/leak/rule/0 a:7000", "weights": [1]}`)
	defer unload()
	pool := testPool(1)
	const n = 1000
	for range n {
		a, b := net.Pipe()
		s.Select(pool, layer4.WrapConnection(a, nil, zap.NewNop()))
		_, _ = a.Close(), b.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.backends[0].size() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if left := s.backends[0].size(); left != 0 {
		t.Errorf("%d of %d ended connections still tracked", left, n)
	}
}

// TestSelectionTracksAfterGoneCuts: an old config's selection that picks a backend no
// running config provisions any more cuts that connection at once.
func TestSelectionTracksAfterGoneCuts(t *testing.T) {
	s, unload := load(t, `{"key": "TCPRoute default/late/rule/0 a:7000", "weights": [1]}`)
	unload()
	if p := selectFor(t, s, testPool(1), 0); !p.closed(time.Second) {
		t.Error("a connection selected after its backend was gone stayed open")
	}
}

func TestSelectionRejectsBadKeys(t *testing.T) {
	for raw, want := range map[string]string{
		`{"key": "TCPRoute default/r/rule/0 a:7000", "weights": [1, 1]}`:  "key: \"TCPRoute default/r/rule/0 a:7000\" must be",
		`{"key": "TCPRoute", "weights": [1]}`:                             "key: \"TCPRoute\" must be",
		`{"key": "TCPRoute default/r/rule/0  a:7000", "weights": [1, 1]}`: "backend 0 is empty",
	} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		_, err := ctx.LoadModuleByID(moduleID, json.RawMessage(raw))
		cancel()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

// TestBackendKeysTakeBackendsFromTheEnd: the backends are the last fields of a key, so a
// rule holding spaces keys its backends apart from another rule's.
func TestBackendKeysTakeBackendsFromTheEnd(t *testing.T) {
	got, err := backendKeys("TCPRoute  0 a:7000 invalid", 2)
	if err != nil || len(got) != 2 || got[0] != "TCPRoute  0 a:7000" || got[1] != "" {
		t.Fatalf("backendKeys: %q, %v; want [\"TCPRoute  0 a:7000\" \"\"]", got, err)
	}
}

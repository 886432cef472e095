package l4smooth

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
)

// backends holds the open connections of every backend of a rule that a running config
// provisions, keyed by backendKey. A config load provisions the new selections before
// it cleans up the old ones, so a backend that stays in its rule keeps its entry and its
// connections; one that the load no longer provisions (its rule removed, the backend
// removed from the rule or become invalid) drops to no users, and its connections are
// cut.
var backends = caddy.NewUsagePool()

// instances numbers the selections without a key, whose backends are their own.
var instances atomic.Uint64

// invalidBackend stands in the key for a backend that is not valid (emit's l4SplitKey).
const invalidBackend = "invalid"

// backendKeys returns the key in backends of each of n upstreams, "" for an invalid one,
// from a selection key "<kind> <rule> <backend>...", one backend (an address, or
// "invalid") per upstream in the last n fields (emit's l4SplitKey). An empty key gives
// the instance backends of its own: their connections are cut when the config is
// replaced.
func backendKeys(key string, n int) ([]string, error) {
	if key == "" {
		rule := fmt.Sprintf("#%d", instances.Add(1))
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("%s %d", rule, i)
		}
		return keys, nil
	}
	// The backends are the last n fields; the rule between them and the kind may hold
	// spaces of its own.
	f := strings.Split(key, " ")
	if len(f) < 2+n || f[0] == "" || strings.Join(f[1:len(f)-n], " ") == "" {
		return nil, fmt.Errorf("key: %q must be \"<kind> <rule>\" and one backend per weight (%d)", key, n)
	}
	rule := strings.Join(f[:len(f)-n], " ")
	keys := make([]string, n)
	for i, b := range f[len(f)-n:] {
		switch b {
		case "":
			return nil, fmt.Errorf("key: %q: backend %d is empty", key, i)
		case invalidBackend:
		default:
			keys[i] = rule + " " + b
		}
	}
	return keys, nil
}

// backendConns are the open connections proxied to one backend of one rule.
type backendConns struct {
	mu   sync.Mutex
	open map[uint64]net.Conn
	// gone is set when no running config provisions the backend: a connection tracked
	// after that is cut at once.
	gone bool
}

// nextConn numbers tracked connections.
var nextConn atomic.Uint64

// acquireBackends joins the entries of keys ("" stays nil).
func acquireBackends(keys []string) ([]*backendConns, error) {
	bs := make([]*backendConns, len(keys))
	for i, k := range keys {
		if k == "" {
			continue
		}
		v, _, err := backends.LoadOrNew(k, func() (caddy.Destructor, error) {
			return &backendConns{open: map[uint64]net.Conn{}}, nil
		})
		if err != nil {
			releaseBackends(keys[:i])
			return nil, err
		}
		bs[i] = v.(*backendConns)
	}
	return bs, nil
}

// releaseBackends leaves the entries of keys; the last user of one cuts its connections.
func releaseBackends(keys []string) {
	for _, k := range keys {
		if k != "" {
			_, _ = backends.Delete(k)
		}
	}
}

// track records conn, the raw connection of owner, as proxied to the backend until owner
// is garbage: a connection that ends normally leaves the entry with the layer4
// connection that wrapped it (caddy-l4 tells a selection nothing when it ends).
func (b *backendConns) track(owner *layer4.Connection, conn net.Conn) {
	id := nextConn.Add(1)
	b.mu.Lock()
	if b.gone {
		b.mu.Unlock()
		go cut(conn)
		return
	}
	b.open[id] = conn
	b.mu.Unlock()
	runtime.AddCleanup(owner, b.untrack, id)
}

func (b *backendConns) untrack(id uint64) {
	b.mu.Lock()
	delete(b.open, id)
	b.mu.Unlock()
}

// size returns the number of connections tracked.
func (b *backendConns) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.open)
}

// Tracked returns the number of connections the running configs track: those open, and
// those ended whose layer4 connection the garbage collector has not freed yet.
func Tracked() int {
	n := 0
	backends.Range(func(_, v any) bool {
		n += v.(*backendConns).size()
		return true
	})
	return n
}

// Destruct cuts the backend's open connections: no running config has the backend in
// its rule any more. It runs inside a config load, so the cutting does not hold it up.
func (b *backendConns) Destruct() error {
	b.mu.Lock()
	open := b.open
	b.open, b.gone = nil, true
	b.mu.Unlock()
	for _, c := range open {
		go cut(c)
	}
	return nil
}

// cut ends a proxied connection. A stream is closed, which the client sees at once and
// which ends the proxying; the backend's side is shut for writing and closed when the
// backend closes it or writes. A UDP session shares its listener's socket, and caddy-l4's
// Close of it reports to a server loop that an old config no longer runs: its reads are
// ended instead, which ends the session as an idle timeout does.
func cut(c net.Conn) {
	if _, ok := c.LocalAddr().(*net.UDPAddr); ok {
		_ = c.SetReadDeadline(time.Now().Add(-time.Second))
		return
	}
	_ = c.Close()
}

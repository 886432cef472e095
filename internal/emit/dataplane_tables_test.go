package emit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
)

// loadResult loads res into the in-process Caddy as the operator pushes it to a pod it
// knows nothing of: all host tables (replacing any others), POSTed to the admin socket
// of adminListen at caddyjson.TablesPath, and the config with caddy.Load (force as
// there), and waits until the old servers have let go of their listeners. The admin
// endpoint exists only once a config runs: with none running, the config is loaded
// first, then the tables.
func loadResult(t testing.TB, res emit.Result, adminListen string, force bool) {
	t.Helper()
	sock := strings.TrimPrefix(adminListen, "unix/")
	delta := caddyjson.TablesDelta{Replace: true, Set: res.Tables}
	if _, err := os.Stat(sock); err != nil {
		caddyLoad(t, res.JSON, force)
		postTables(t, sock, delta)
		return
	}
	postTables(t, sock, delta)
	caddyLoad(t, res.JSON, force)
	waitHandoff(t)
}

func caddyLoad(t testing.TB, cfg []byte, force bool) {
	t.Helper()
	if err := caddy.Load(cfg, force); err != nil {
		t.Fatalf("caddy.Load: %v", err)
	}
}

// postTables POSTs delta to the route tables' admin path on the admin socket sock and
// fails the test unless Caddy applied it.
func postTables(t testing.TB, sock string, delta caddyjson.TablesDelta) {
	t.Helper()
	body, err := json.Marshal(delta)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://caddy-admin"+caddyjson.TablesPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", caddyjson.TablesPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", caddyjson.TablesPath, resp.StatusCode, bytes.TrimSpace(msg))
	}
}

// tablesDelta is what the operator sends a pod holding the host tables of from to make
// it hold those of to: the host tables that are new or changed, and the deletes of
// those no longer wanted.
func tablesDelta(from, to emit.Result) caddyjson.TablesDelta {
	held := make(map[caddyjson.HostKey]string, len(from.Tables))
	for _, h := range from.Tables {
		held[h.Key()] = h.Hash
	}
	var d caddyjson.TablesDelta
	for _, h := range to.Tables {
		if held[h.Key()] != h.Hash {
			d.Set = append(d.Set, h)
		}
		delete(held, h.Key())
	}
	for k := range held {
		d.Delete = append(d.Delete, k)
	}
	return d
}

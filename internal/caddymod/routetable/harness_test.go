package routetable

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/testports"
)

// gw is a Caddy run in-process: its admin API on a unix socket, one HTTP server on
// loopback whose routes are the gateway_routes handlers of the frame.
type gw struct {
	sock  string
	port  int
	admin *http.Client
	web   *http.Client
}

// frame is the config of the Caddy: admin on sock, one server on port serving table.
func frame(sock string, port int, tables ...string) []byte {
	handlers := make([]any, 0, len(tables))
	for _, t := range tables {
		handlers = append(handlers, map[string]any{"handle": []any{caddyjson.RouteTable{Handler: caddyjson.RouteTableHandler, Table: t}}})
	}
	b, _ := json.Marshal(map[string]any{
		"admin":   map[string]any{"listen": "unix/" + sock, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"s": map[string]any{
			"listen":          []string{fmt.Sprintf("127.0.0.1:%d", port)},
			"routes":          handlers,
			"automatic_https": map[string]any{"disable": true},
		}}}},
	})
	return b
}

// startCaddy loads a frame serving tables and empties the process's route tables.
func startCaddy(t testing.TB, tables ...string) *gw {
	t.Helper()
	dir, err := os.MkdirTemp("", "rt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	g := &gw{sock: filepath.Join(dir, "admin.sock"), port: testports.Port(t)}
	if err := caddy.Load(frame(g.sock, g.port, tables...), true); err != nil {
		t.Fatalf("loading the frame: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("caddy.Stop: %v", err)
		}
	})
	g.admin = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", g.sock)
	}, DisableKeepAlives: true}, Timeout: time.Minute}
	g.web = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	t.Cleanup(g.web.CloseIdleConnections)
	g.mustPost(t, caddyjson.TablesDelta{Replace: true})
	return g
}

// post sends a delta to the admin API and returns the status and body.
func (g *gw) post(t testing.TB, d caddyjson.TablesDelta) (int, string) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return g.do(t, http.MethodPost, b)
}

func (g *gw) mustPost(t testing.TB, d caddyjson.TablesDelta) {
	t.Helper()
	if code, body := g.post(t, d); code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", caddyjson.TablesPath, code, body)
	}
}

func (g *gw) do(t testing.TB, method string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://localhost"+caddyjson.TablesPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.admin.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, caddyjson.TablesPath, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// state is GET of the admin path.
func (g *gw) state(t testing.TB) caddyjson.TablesState {
	t.Helper()
	code, body := g.do(t, http.MethodGet, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", caddyjson.TablesPath, code, body)
	}
	var st caddyjson.TablesState
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET %s: %v: %s", caddyjson.TablesPath, err, body)
	}
	return st
}

// get requests path with the Host host and returns status and body.
func (g *gw) get(t testing.TB, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", g.port, path), nil)
	req.Host = host
	resp, err := g.web.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (g *gw) expect(t testing.TB, host, path string, code int, body string) {
	t.Helper()
	if c, b := g.get(t, host, path); c != code || b != body {
		t.Errorf("GET %s%s: %d %q, want %d %q", host, path, c, b, code, body)
	}
}

// route is a Caddy route as JSON: the handlers, matched by path when path is set.
func route(path string, handlers ...any) map[string]any {
	r := map[string]any{"handle": handlers}
	if path != "" {
		r["match"] = []any{map[string]any{"path": []string{path}}}
	}
	return r
}

func static(body string) map[string]any {
	return map[string]any{"handler": "static_response", "body": body}
}

func proxy(dial string) map[string]any {
	return map[string]any{"handler": "reverse_proxy", "flush_interval": -1, "upstreams": []any{map[string]any{"dial": dial}}}
}

// table is a host table of routes, hashed as the operator hashes it.
func table(tbl, host string, routes ...any) caddyjson.HostTable {
	if routes == nil {
		routes = []any{}
	}
	b, _ := json.Marshal(routes)
	sum := sha256.Sum256(b)
	return caddyjson.HostTable{Table: tbl, Host: host, Hash: hex.EncodeToString(sum[:]), Routes: b}
}

// backend is a loopback server answering its name.
func backend(t testing.TB, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(s.Close)
	return s
}

func dial(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// probe is a test handler that counts its provisions and cleanups by name, and holds a
// request until its gate (if any) opens, then answers its name.
type probe struct {
	Name string `json:"name"`
}

// probeCount is what probes of one name saw.
type probeCount struct {
	provisioned, cleaned atomic.Int64
	entered              chan struct{}
	gate                 chan struct{}
	// failAt, when set, makes the failAt-th provision (counting from 1) and those after it
	// fail.
	failAt int64
}

var (
	probesMu sync.Mutex
	probes   = map[string]*probeCount{}
)

func probeOf(name string) *probeCount {
	probesMu.Lock()
	defer probesMu.Unlock()
	if probes[name] == nil {
		probes[name] = &probeCount{entered: make(chan struct{}, 100)}
	}
	return probes[name]
}

// freshProbe starts the counts of name again.
func freshProbe(name string) *probeCount {
	probesMu.Lock()
	defer probesMu.Unlock()
	probes[name] = &probeCount{entered: make(chan struct{}, 100)}
	return probes[name]
}

func init() { caddy.RegisterModule(probe{}) }

func (probe) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.test_probe", New: func() caddy.Module { return new(probe) }}
}

// refusing is the context key under which a test names the probes that do not
// provision in that context (in one handler's, say).
type refusing struct{}

func (p *probe) Provision(ctx caddy.Context) error {
	c := probeOf(p.Name)
	n := c.provisioned.Add(1)
	switch {
	case c.failAt > 0 && n >= c.failAt:
		return fmt.Errorf("probe %s: provision %d fails", p.Name, n)
	case ctx.Value(refusing{}) == p.Name:
		return fmt.Errorf("probe %s: refused in this context", p.Name)
	}
	return nil
}

func (p *probe) Cleanup() error { probeOf(p.Name).cleaned.Add(1); return nil }

func (p *probe) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	c := probeOf(p.Name)
	select {
	case c.entered <- struct{}{}:
	default:
	}
	if c.gate != nil {
		<-c.gate
	}
	_, err := io.WriteString(w, p.Name)
	return err
}

func probeHandler(name string) map[string]any {
	return map[string]any{"handler": "test_probe", "name": name}
}

// eventually polls cond for a bounded time.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// applyAll applies d to the process's tables; a host table that did not provision is an
// error.
func applyAll(d *caddyjson.TablesDelta) error {
	res, err := reg.apply(d)
	if err == nil && len(res.Failed) > 0 {
		err = errors.New(res.Error)
	}
	return err
}

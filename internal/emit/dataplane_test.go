package emit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// echo is what the test backends answer: the request as they saw it.
type echo struct {
	Backend string      `json:"backend"`
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
}

func echoBackend(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Resp", "original")
		_ = json.NewEncoder(w).Encode(echo{Backend: name, Method: r.Method, Path: r.URL.Path,
			Query: r.URL.RawQuery, Host: r.Host, Header: r.Header})
	}))
	t.Cleanup(s.Close)
	return s
}

// dataPlane is a running in-process Caddy with the emitted config of a fixture.
type dataPlane struct {
	t         *testing.T
	base      string
	readiness string
	metrics   string
	client    *http.Client
	// ir is what the running config was emitted from, with opts; listenPort and backends
	// emit further configs of the same data plane (config).
	ir         *ir.Gateway
	opts       emit.Options
	listenPort int
	backends   map[string]string
	// configs counts the configs emitted by reloadingConfig.
	configs int
}

// startDataPlane translates fixture YAML (with PORT for the listener port), points
// backend addresses at local echo servers, emits and loads the config into Caddy. The
// servers options, if given, tune the listener ports' servers.
func startDataPlane(t *testing.T, yamlText string, backends map[string]string, servers ...emit.ServerOptions) *dataPlane {
	var opts emit.Options
	if len(servers) > 0 {
		opts.Servers = servers[0]
	}
	return startDataPlaneWith(t, yamlText, backends, opts)
}

// startDataPlaneWith is startDataPlane with opts; the harness sets the addresses and
// ports of loopback servers and sockets.
func startDataPlaneWith(t *testing.T, yamlText string, backends map[string]string, opts emit.Options) *dataPlane {
	dir, port, ready, metrics := t.TempDir(), testports.Port(t), testports.Port(t), testports.Port(t)
	opts.AdminListen, opts.ListenHost = "unix/"+filepath.Join(dir, "admin.sock"), "127.0.0.1"
	opts.ReadinessPort, opts.MetricsPort = int32(ready), int32(metrics)
	opts.InvalidBackendSocket = filepath.Join(dir, "invalid.sock")
	d := &dataPlane{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port),
		readiness: fmt.Sprintf("http://127.0.0.1:%d", ready), metrics: fmt.Sprintf("http://127.0.0.1:%d", metrics),
		client: &http.Client{
			Timeout:       5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		listenPort: port, backends: backends}
	d.ir = d.translate(yamlText)
	d.load(opts)
	t.Cleanup(func() { _ = caddy.Stop() })
	return d
}

// load emits the data plane's IR with opts and loads it into Caddy, its host tables
// and its config (loadResult): a reload when a config is running.
func (d *dataPlane) load(opts emit.Options) {
	d.t.Helper()
	res, err := emit.Emit(d.ir, opts)
	if err != nil {
		d.t.Fatal(err)
	}
	loadResult(d.t, res, opts.AdminListen, true)
	// The old servers close their idle keep-alive connections; a request must not race
	// that on a pooled one.
	if d.client != nil {
		d.client.CloseIdleConnections()
	}
	d.opts = opts
}

// translate translates fixture YAML for this data plane: same port and backends.
func (d *dataPlane) translate(yamlText string) *ir.Gateway {
	d.t.Helper()
	in, err := fixture.Load([]byte(strings.ReplaceAll(yamlText, "PORT", fmt.Sprint(d.listenPort))))
	if err != nil {
		d.t.Fatal(err)
	}
	g := translator.Translate(in).IR
	redirectBackends(g, d.backends)
	return g
}

// config emits fixture YAML for this data plane: same port, backends and options.
func (d *dataPlane) config(yamlText string) emit.Result {
	d.t.Helper()
	res, err := emit.Emit(d.translate(yamlText), d.opts)
	if err != nil {
		d.t.Fatal(err)
	}
	return res
}

// reloadingConfig is config for the tests about what a reload of Caddy does, which a
// route change alone no longer causes: the first plain HTTP port gets one more listener,
// without routes, whose hostname counts these configs (reload-<n>.invalid), so that each
// config differs from the last as when the Gateway's listeners change.
func (d *dataPlane) reloadingConfig(yamlText string) emit.Result {
	d.t.Helper()
	g := d.translate(yamlText)
	d.configs++
	for i := range g.HTTP {
		if s := &g.HTTP[i]; !s.TLS {
			s.Listeners = append(s.Listeners, ir.Listener{Name: "reload", Hostname: fmt.Sprintf("reload-%d.invalid", d.configs)})
			break
		}
	}
	res, err := emit.Emit(g, d.opts)
	if err != nil {
		d.t.Fatal(err)
	}
	return res
}

func redirectBackends(g *ir.Gateway, backends map[string]string) {
	redirect := func(addr *string) {
		if to, ok := backends[*addr]; ok {
			*addr = to
		}
	}
	for _, servers := range [][]ir.Layer4Server{g.TCP, g.UDP} {
		for i := range servers {
			for j := range servers[i].Backends {
				redirect(&servers[i].Backends[j].Address)
			}
		}
	}
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			for _, f := range g.HTTP[i].Listeners[j].RequestFilters {
				redirect(&f.ExternalAuth.Address)
			}
			for k := range g.HTTP[i].Listeners[j].Hosts {
				routes := g.HTTP[i].Listeners[j].Hosts[k].Routes
				for r := range routes {
					for b := range routes[r].Action.Backends {
						be := &routes[r].Action.Backends[b]
						redirect(&be.Address)
						if be.Filters != nil {
							for m := range be.Filters.Mirrors {
								redirect(&be.Filters.Mirrors[m].Address)
							}
						}
					}
					for m := range routes[r].Action.Mirrors {
						redirect(&routes[r].Action.Mirrors[m].Address)
					}
				}
			}
		}
	}
}

// do sends a request; host and headers are optional ("Host" in headers sets the host).
func (d *dataPlane) do(method, path string, headers map[string]string) (*http.Response, echo) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if resp.StatusCode == 200 && strings.HasPrefix(string(body), "{") {
		_ = json.Unmarshal(body, &e)
	}
	return resp, e
}

func (d *dataPlane) expect(method, path string, headers map[string]string, wantStatus int) echo {
	d.t.Helper()
	resp, e := d.do(method, path, headers)
	if resp.StatusCode != wantStatus {
		d.t.Errorf("%s %s %v: status %d, want %d", method, path, headers, resp.StatusCode, wantStatus)
	}
	return e
}

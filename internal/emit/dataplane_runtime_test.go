package emit_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
)

// TestDataPlaneMetrics checks that the metrics server answers Prometheus text with the
// requests of the listener servers, and is absent when metrics are disabled.
func TestDataPlaneMetrics(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		d := startRuntimeDataPlane(t, emit.Options{})
		for range 3 {
			d.expect("GET", "/app", nil, 200)
		}
		resp, err := d.client.Get(d.metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		server := fmt.Sprintf(`server="port-%s"`, d.base[strings.LastIndex(d.base, ":")+1:])
		if n := counterSum(string(body), "caddy_http_requests_total", server); n != 3 {
			t.Errorf("caddy_http_requests_total{%s} sums to %v, want 3:\n%s", server, n,
				grepLines(string(body), "caddy_http_requests_total"))
		}
		if resp, err := d.client.Get(d.metrics + "/other"); err != nil || resp.StatusCode != 404 {
			t.Errorf("GET /other on the metrics port: %v %v", resp, err)
		}
		// Caddy keeps metrics per loaded config: a reload starts the counters again.
		d.reload()
		d.expect("GET", "/app", nil, 200)
		if n := counterSum(d.getMetrics(), "caddy_http_requests_total", server); n != 1 {
			t.Errorf("after a reload caddy_http_requests_total{%s} sums to %v, want 1", server, n)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		d := startRuntimeDataPlane(t, emit.Options{DisableMetrics: true})
		d.expect("GET", "/app", nil, 200)
		if resp, err := d.client.Get(d.metrics + "/metrics"); err == nil {
			resp.Body.Close()
			t.Errorf("metrics port answers with metrics disabled: %d", resp.StatusCode)
		}
	})
}

// getMetrics returns the body of GET /metrics on the metrics port.
func (d *dataPlane) getMetrics() string {
	d.t.Helper()
	resp, err := d.client.Get(d.metrics + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// counterSum adds the samples of metric whose labels contain label.
func counterSum(text, metric, label string) float64 {
	var sum float64
	for _, l := range strings.Split(text, "\n") {
		labels, value, ok := strings.Cut(strings.TrimPrefix(l, metric+"{"), "} ")
		if !ok || !strings.HasPrefix(l, metric+"{") || !strings.Contains(labels, label) {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			sum += v
		}
	}
	return sum
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// upgradeBackend accepts any upgrade and then echoes what it reads.
func upgradeBackend(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	t.Cleanup(s.Close)
	return s
}

// openStream upgrades a connection through Caddy to the echo backend.
func openStream(t *testing.T, d *dataPlane) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_, _ = io.WriteString(conn, "GET /app/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	r := bufio.NewReader(conn)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return conn, r
}

// echoes reports whether the stream still carries a message both ways.
func echoes(conn net.Conn, r *bufio.Reader, msg string) bool {
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, msg+"\n"); err != nil {
		return false
	}
	line, err := r.ReadString('\n')
	return err == nil && line == msg+"\n"
}

// closedWithin waits until the stream is closed and says how long that took, or false
// when it stays open for limit.
func closedWithin(conn net.Conn, r *bufio.Reader, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = conn.SetDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return 0, false
	}
	return time.Since(start), true
}

// reload loads the running config again with another readiness port, so that Caddy
// replaces every handler.
func (d *dataPlane) reload() {
	opts := d.opts
	opts.ReadinessPort = int32(testports.Port(d.t))
	d.load(opts)
}

// changeRoutes loads the running config with one more route (to the same action) at the
// end of the first host group, so that Caddy replaces that host table and the handlers
// of its routes; the config stays as it is. It returns the new route's path.
func (d *dataPlane) changeRoutes() string {
	d.t.Helper()
	h := &d.ir.HTTP[0].Listeners[0].Hosts[0]
	r := h.Routes[0]
	m := *r.Match
	m.Path = fmt.Sprintf("/changed-%d", len(h.Routes))
	r.Match = &m
	h.Routes = append(slices.Clip(h.Routes), r)
	d.load(d.opts)
	return m.Path
}

// TestDataPlaneStreamCloseDelay checks that an upgraded connection keeps its proxy
// across a reload of the config and a change of its host table, whatever
// streamCloseDelay: the route tables hold the proxies apart from the config, and a
// replaced host table is cleaned up only once no request runs on it.
func TestDataPlaneStreamCloseDelay(t *testing.T) {
	backend := map[string]string{"a.default.svc.cluster.local:8080": upgradeBackend(t).Listener.Addr().String()}
	for name, delay := range map[string]time.Duration{"without delay": 0, "with delay": 2 * time.Second} {
		t.Run(name, func(t *testing.T) {
			opts := emit.Options{}
			if delay != 0 {
				opts.StreamCloseDelay = delay.String()
			}
			d := startDataPlaneWith(t, runtimeFixture, backend, opts)
			conn, r := openStream(t, d)
			if !echoes(conn, r, "before") {
				t.Fatal("stream does not echo before the reload")
			}
			d.reload()
			if !echoes(conn, r, "after the reload") {
				t.Fatal("stream does not echo after a reload of the config")
			}
			changed := d.changeRoutes()
			if !echoes(conn, r, "after the change") {
				t.Fatal("stream does not echo after a change of its host table")
			}
			time.Sleep(delay + 500*time.Millisecond)
			if !echoes(conn, r, "later") {
				t.Fatalf("stream does not echo %v after the change of its host table", delay+500*time.Millisecond)
			}
			if resp, _ := d.do("GET", changed, nil); resp.StatusCode == http.StatusNotFound {
				t.Fatalf("GET %s: 404: the host table did not change", changed)
			}
		})
	}
}

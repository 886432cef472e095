package emit_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// backendFixture exercises timeouts, retries, backend protocols from appProtocol and
// the redirect codes not covered by dataPlaneFixture.
const backendFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: slow, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: flaky, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: grpcish, namespace: default}
spec: {ports: [{port: 8080, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: v1
kind: Service
metadata: {name: ws, namespace: default}
spec: {ports: [{port: 8080, appProtocol: kubernetes.io/ws}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backends, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /timeout-request}}]
    timeouts: {request: 300ms}
    backendRefs: [{name: slow, port: 8080}]
  - matches: [{path: {value: /timeout-backend}}]
    timeouts: {request: 10s, backendRequest: 300ms}
    backendRefs: [{name: slow, port: 8080}]
  - matches: [{path: {value: /retry}}]
    retry: {codes: [503], attempts: 2, backoff: 50ms}
    backendRefs: [{name: flaky, port: 8080}]
  - matches: [{path: {value: /retry-deadline}}]
    retry: {codes: [503], attempts: 5}
    timeouts: {request: 300ms}
    backendRefs: [{name: flaky, port: 8080}]
  - matches: [{path: {value: /h2c}}]
    backendRefs: [{name: grpcish, port: 8080}]
  - matches: [{path: {value: /h2c-half-invalid}}]
    backendRefs: [{name: grpcish, port: 8080}, {name: missing, port: 8080}]
  - matches: [{path: {value: /ws}}]
    backendRefs: [{name: ws, port: 8080}]
  - matches: [{path: {value: /redir-303}}]
    filters: [{type: RequestRedirect, requestRedirect: {hostname: see.example.com, statusCode: 303}}]
  - matches: [{path: {value: /redir-307}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /temp}, statusCode: 307}}]
`

// slowBackend answers after the duration in the X-Delay header.
func slowBackend(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.Header.Get("X-Delay"))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "slow done")
	}))
	t.Cleanup(s.Close)
	return s
}

// flakyBackend fails the first X-Fail-Times requests carrying the same X-Test-Id
// with X-Fail-Status, then answers 200; attempts counts requests per id.
type flakyBackend struct {
	*httptest.Server
	mu       sync.Mutex
	attempts map[string]int
	times    map[string][]time.Time
}

func newFlakyBackend(t *testing.T) *flakyBackend {
	f := &flakyBackend{attempts: map[string]int{}, times: map[string][]time.Time{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Test-Id")
		f.mu.Lock()
		f.attempts[id]++
		f.times[id] = append(f.times[id], time.Now())
		n := f.attempts[id]
		f.mu.Unlock()
		if d, err := time.ParseDuration(r.Header.Get("X-Delay")); err == nil {
			time.Sleep(d)
		}
		failTimes, _ := strconv.Atoi(r.Header.Get("X-Fail-Times"))
		if n <= failTimes {
			status, _ := strconv.Atoi(r.Header.Get("X-Fail-Status"))
			w.WriteHeader(status)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *flakyBackend) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[id]
}

// h2cBackend speaks only HTTP/2 over cleartext (prior knowledge) and reports the
// protocol it saw.
func h2cBackend(t *testing.T) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Proto", r.Proto)
	}))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// wsBackend accepts an HTTP/1.1 WebSocket upgrade and then echoes raw bytes.
func wsBackend(t *testing.T) *httptest.Server {
	s := httptest.NewServer(wsEcho)
	t.Cleanup(s.Close)
	return s
}

// wsEcho accepts an HTTP/1.1 WebSocket upgrade and then echoes raw bytes.
var wsEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	_ = rw.Flush()
	buf := make([]byte, 64)
	for {
		n, err := rw.Read(buf)
		if err != nil {
			return
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			return
		}
	}
})

// TestDataPlaneBackends checks timeouts, retries, h2c and WebSocket backends and the
// 303/307 redirects against a real Caddy.
func TestDataPlaneBackends(t *testing.T) {
	slow, flaky, h2c, ws := slowBackend(t), newFlakyBackend(t), h2cBackend(t), wsBackend(t)
	d := startDataPlane(t, backendFixture, map[string]string{
		"slow.default.svc.cluster.local:8080":    slow.Listener.Addr().String(),
		"flaky.default.svc.cluster.local:8080":   flaky.Listener.Addr().String(),
		"grpcish.default.svc.cluster.local:8080": h2c.Listener.Addr().String(),
		"ws.default.svc.cluster.local:8080":      ws.Listener.Addr().String(),
	})
	cases := map[string]func(t *testing.T, d *dataPlane){
		"HTTPRouteRequestTimeout": func(t *testing.T, d *dataPlane) {
			start := time.Now()
			d.expect("GET", "/timeout-request", map[string]string{"X-Delay": "2s"}, 504)
			if el := time.Since(start); el > 1500*time.Millisecond {
				t.Errorf("504 after %v, want about 300ms", el)
			}
			d.expect("GET", "/timeout-request", map[string]string{"X-Delay": "10ms"}, 200)
		},
		"HTTPRouteBackendTimeout": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/timeout-backend", map[string]string{"X-Delay": "2s"}, 504)
			d.expect("GET", "/timeout-backend", map[string]string{"X-Delay": "10ms"}, 200)
		},
		"HTTPRouteRetry": func(t *testing.T, d *dataPlane) { testRetry(t, d, flaky) },
		"HTTPRouteBackendProtocolH2C": func(t *testing.T, d *dataPlane) {
			resp, _ := d.do("GET", "/h2c", nil)
			if resp.StatusCode != 200 || resp.Header.Get("X-Backend-Proto") != "HTTP/2.0" {
				t.Errorf("h2c backend: status %d, backend saw %q, want 200 HTTP/2.0", resp.StatusCode, resp.Header.Get("X-Backend-Proto"))
			}
		},
		"HTTPRouteBackendProtocolH2C/invalidShare500": func(t *testing.T, d *dataPlane) {
			// The 500 server shares the h2c transport of the rule: Caddy's cleartext
			// servers accept prior-knowledge HTTP/2 whenever h2 is enabled (the default).
			statuses := map[int]int{}
			for range 20 {
				resp, _ := d.do("GET", "/h2c-half-invalid", nil)
				statuses[resp.StatusCode]++
			}
			if statuses[200] == 0 || statuses[500] == 0 || statuses[200]+statuses[500] != 20 {
				t.Errorf("h2c rule with one invalid backend answered %v, want only 200 and 500", statuses)
			}
		},
		"HTTPRouteBackendProtocolWebSocket": testWebSocket,
		"HTTPRoute303and307Redirects": func(t *testing.T, d *dataPlane) {
			for path, want := range map[string]struct {
				status int
				loc    string
			}{
				"/redir-303/x?q=1": {303, "http://see.example.com:" + d.port() + "/redir-303/x?q=1"},
				"/redir-307/x":     {307, "http://h.example.com:" + d.port() + "/temp"},
			} {
				resp, _ := d.do("POST", path, map[string]string{"Host": "h.example.com"})
				if resp.StatusCode != want.status || resp.Header.Get("Location") != want.loc {
					t.Errorf("%s: %d %q, want %d %q", path, resp.StatusCode, resp.Header.Get("Location"), want.status, want.loc)
				}
			}
		},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) { d.t = t; cases[name](t, d) })
	}
}

func (d *dataPlane) port() string { return d.base[strings.LastIndexByte(d.base, ':')+1:] }

func testRetry(t *testing.T, d *dataPlane, flaky *flakyBackend) {
	cases := []struct {
		id, failStatus   string
		failTimes        int
		wantStatus, want int // want: attempts the backend saw
	}{
		{"recovers", "503", 2, 200, 3},   // two retries, third attempt succeeds
		{"exhausted", "503", 5, 503, 3},  // attempts: 2 → 3 tries, then the upstream status
		{"not-listed", "500", 1, 500, 1}, // 500 is not in codes: no retry
	}
	// The request timeout bounds the retries: the third attempt would end after it.
	start := time.Now()
	d.expect("GET", "/retry-deadline", map[string]string{"X-Test-Id": "deadline", "X-Fail-Status": "503",
		"X-Fail-Times": "10", "X-Delay": "120ms"}, 504)
	if took := time.Since(start); took > time.Second {
		t.Errorf("deadline: answered after %v, the request timeout is 300ms", took)
	}
	for _, c := range cases {
		start := time.Now()
		d.expect("GET", "/retry", map[string]string{"X-Test-Id": c.id, "X-Fail-Status": c.failStatus,
			"X-Fail-Times": strconv.Itoa(c.failTimes)}, c.wantStatus)
		if got := flaky.count(c.id); got != c.want {
			t.Errorf("%s: backend saw %d attempts, want %d", c.id, got, c.want)
		}
		if c.want == 3 && time.Since(start) < 100*time.Millisecond {
			t.Errorf("%s: two retries with backoff 50ms took only %v", c.id, time.Since(start))
		}
	}
}

// testWebSocket upgrades through Caddy with a raw connection and echoes a message.
func testWebSocket(t *testing.T, d *dataPlane) {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(d.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("upgrade answered %d (Upgrade %q), want 101 websocket", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	if _, err := io.WriteString(conn, "ping through caddy"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("ping through caddy"))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "ping through caddy" {
		t.Errorf("echo %q", got)
	}
}

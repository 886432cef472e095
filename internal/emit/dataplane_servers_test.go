package emit_test

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// rawConn dials the data plane's listener port.
func rawConn(t *testing.T, d *dataPlane) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestDataPlaneReadHeaderTimeout: a client that sends half its headers is cut off
// after the read-header timeout; by default Caddy waits a minute.
func TestDataPlaneReadHeaderTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout *time.Duration
		cut     bool
	}{{nil, false}, {ptr(300 * time.Millisecond), true}} {
		d := startDataPlane(t, httpFixture, httpsBackends(t), emit.ServerOptions{ReadHeaderTimeout: tc.timeout})
		c := rawConn(t, d)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if cut := cutWithin(c, 1500*time.Millisecond); cut != tc.cut {
			t.Errorf("read-header timeout %v: connection closed=%v after %v, want %v", tc.timeout, cut, time.Since(start), tc.cut)
		}
	}
}

// TestDataPlaneIdleTimeout: a kept-alive connection is closed after the idle timeout.
func TestDataPlaneIdleTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout *time.Duration
		cut     bool
	}{{nil, false}, {ptr(300 * time.Millisecond), true}} {
		d := startDataPlane(t, httpFixture, httpsBackends(t), emit.ServerOptions{IdleTimeout: tc.timeout})
		c := rawConn(t, d)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("idle timeout %v: response %v, error %v", tc.timeout, resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if cut := cutWithin(c, 1500*time.Millisecond); cut != tc.cut {
			t.Errorf("idle timeout %v: idle connection closed=%v, want %v", tc.timeout, cut, tc.cut)
		}
	}
}

// TestDataPlaneReadTimeout: a request whose body trickles in is cut off after the
// read timeout.
func TestDataPlaneReadTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout *time.Duration
		cut     bool
	}{{nil, false}, {ptr(500 * time.Millisecond), true}} {
		d := startDataPlane(t, httpFixture, httpsBackends(t), emit.ServerOptions{ReadTimeout: tc.timeout})
		c := rawConn(t, d)
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab"); err != nil {
			t.Fatal(err)
		}
		if cut := cutWithin(c, 2*time.Second); cut != tc.cut {
			t.Errorf("read timeout %v: connection with a stalled body closed=%v, want %v", tc.timeout, cut, tc.cut)
		}
	}
}

// TestDataPlaneWriteTimeout: a response that is not written within the write timeout
// never reaches the client.
func TestDataPlaneWriteTimeout(t *testing.T) {
	slow := slowBackend(t)
	for _, tc := range []struct {
		timeout *time.Duration
		served  bool
	}{{nil, true}, {ptr(300 * time.Millisecond), false}} {
		d := startDataPlane(t, httpFixture, map[string]string{"a.default.svc.cluster.local:8080": slow.Listener.Addr().String()},
			emit.ServerOptions{WriteTimeout: tc.timeout})
		c := rawConn(t, d)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Delay: 800ms\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if served := err == nil && resp.StatusCode == 200; served != tc.served {
			t.Errorf("write timeout %v, backend answering after 800ms: response %v, error %v; want served=%v", tc.timeout, resp, err, tc.served)
		}
	}
}

// forwardedFor sends one request for foo.example.com over c (raw HTTP/1.1, closing) and returns the
// X-Forwarded-For the backend saw.
func forwardedFor(t *testing.T, c net.Conn, xff string) string {
	t.Helper()
	req := "GET / HTTP/1.1\r\nHost: foo.example.com\r\nConnection: close\r\n"
	if xff != "" {
		req += "X-Forwarded-For: " + xff + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, decoding the echo: %v", resp.StatusCode, err)
	}
	return e.Header.Get("X-Forwarded-For")
}

// TestDataPlaneTrustedProxies: a trusted peer's X-Forwarded-For reaches the backend with
// the peer appended; an untrusted peer's is replaced by the peer's own address.
func TestDataPlaneTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		trusted []string
		want    string
	}{{nil, "127.0.0.1"}, {[]string{"10.0.0.0/8"}, "127.0.0.1"}, {[]string{"10.0.0.0/8", "127.0.0.0/8"}, "203.0.113.7, 127.0.0.1"}} {
		d := startDataPlane(t, httpFixture, httpsBackends(t), emit.ServerOptions{TrustedProxies: tc.trusted})
		if got := forwardedFor(t, rawConn(t, d), "203.0.113.7"); got != tc.want {
			t.Errorf("trusted %v: backend saw X-Forwarded-For %q, want %q", tc.trusted, got, tc.want)
		}
	}
}

// proxyV2 is a PROXY protocol v2 header for a TCP over IPv4 connection from src.
func proxyV2(src net.IP, srcPort uint16) []byte {
	h := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	h = append(h, src.To4()...)
	h = append(h, 127, 0, 0, 1)
	h = binary.BigEndian.AppendUint16(h, srcPort)
	return binary.BigEndian.AppendUint16(h, 443)
}

// TestDataPlaneProxyProtocol: a PROXY header from an allowed peer gives the client
// address the backend sees (v1 on a cleartext port, v2 before the TLS handshake on an
// HTTPS port); a header from any other peer is read and ignored.
func TestDataPlaneProxyProtocol(t *testing.T) {
	v1 := "PROXY TCP4 198.51.100.9 127.0.0.1 40000 80\r\n"
	for _, tc := range []struct {
		allow []string
		want  string
	}{{[]string{"127.0.0.0/8"}, "198.51.100.9"}, {[]string{"10.0.0.0/8"}, "127.0.0.1"}} {
		d := startDataPlane(t, httpFixture, httpsBackends(t),
			emit.ServerOptions{ProxyProtocol: &emit.ProxyProtocol{Allow: tc.allow}})
		c := rawConn(t, d)
		if _, err := io.WriteString(c, v1); err != nil {
			t.Fatal(err)
		}
		if got := forwardedFor(t, c, ""); got != tc.want {
			t.Errorf("v1, allow %v: backend saw X-Forwarded-For %q, want %q", tc.allow, got, tc.want)
		}
		// A connection without a header is served as before.
		if got := forwardedFor(t, rawConn(t, d), ""); got != "127.0.0.1" {
			t.Errorf("no header, allow %v: backend saw X-Forwarded-For %q, want 127.0.0.1", tc.allow, got)
		}
	}
	d := startDataPlane(t, tlsFixture, httpsBackends(t),
		emit.ServerOptions{ProxyProtocol: &emit.ProxyProtocol{Allow: []string{"127.0.0.0/8"}}})
	c := rawConn(t, d)
	if _, err := c.Write(proxyV2(net.IPv4(192, 0, 2, 44), 5555)); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, fixtureTLS("foo.example.com"))
	if got := forwardedFor(t, tc, ""); got != "192.0.2.44" {
		t.Errorf("v2 before TLS: backend saw X-Forwarded-For %q, want 192.0.2.44", got)
	}
}

// TestDataPlaneClientIPStrict: behind trusted proxies the client address
// ({http.vars.client_ip}, what access logs record) is the rightmost X-Forwarded-For entry that is not a trusted
// proxy, so an address the client puts in front of the header is not believed. The
// emitted config gets one extra route answering it.
func TestDataPlaneClientIPStrict(t *testing.T) {
	port := testports.Port(t)
	in, err := fixture.Load([]byte(strings.ReplaceAll(httpFixture, "PORT", fmt.Sprint(port))))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, err := emit.Config(translator.Translate(in).IR, emit.Options{
		AdminListen: "unix/" + filepath.Join(dir, "admin.sock"), ListenHost: "127.0.0.1", InvalidBackendSocket: filepath.Join(dir, "invalid.sock"),
		ReadinessPort: int32(testports.Port(t)), Servers: emit.ServerOptions{TrustedProxies: []string{"127.0.0.0/8", "10.0.0.0/8"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := cfg.Apps.HTTP.Servers[fmt.Sprintf("port-%d", port)]
	srv.Routes = append([]caddyjson.Route{{Handle: []caddyjson.Handler{
		caddyjson.StaticResponse{Handler: "static_response", StatusCode: 200, Body: "{http.vars.client_ip}"},
	}}}, srv.Routes...)
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(raw, true); err != nil {
		t.Fatalf("caddy.Load: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	for xff, want := range map[string]string{
		"":                                     "127.0.0.1",
		"198.51.100.1":                         "198.51.100.1",
		"203.0.113.66, 198.51.100.1":           "198.51.100.1",
		"203.0.113.66, 198.51.100.1, 10.1.2.3": "198.51.100.1",
	} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("X-Forwarded-For %q: client_ip %q, want %q", xff, body, want)
		}
	}
}

// cutWithin reports whether the server closes c within wait.
func cutWithin(c net.Conn, wait time.Duration) bool {
	_, closed := closedWithin(c, bufio.NewReader(c), wait)
	return closed
}

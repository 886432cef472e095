package mirror

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// seen is one request as a test server received it.
type seen struct {
	method, path, query, host, header, body string
}

// recorder is an upstream that records what it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
	// delay holds each answer back.
	delay time.Duration
}

func newRecorder(t *testing.T, delay time.Duration) *recorder {
	rec := &recorder{delay: delay}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Get("X-Test"), string(b)})
		rec.mu.Unlock()
		select {
		case <-time.After(rec.delay):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "mirror answer")
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

func (rec *recorder) dial() string { return strings.TrimPrefix(rec.URL, "http://") }

// waitFor polls until the recorder has n requests or the bounded wait ends.
func (rec *recorder) waitFor(t *testing.T, n int) []seen {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for rec.count() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) < n {
		t.Fatalf("mirror received %d requests, want %d", len(rec.reqs), n)
	}
	return append([]seen(nil), rec.reqs...)
}

func provision(t *testing.T, h *Handler) *Handler {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

// serve runs one request through h with a next handler that records the body it got.
func serve(t *testing.T, h *Handler, r *http.Request) (status int, mainBody string) {
	t.Helper()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		mainBody = string(b)
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, next); err != nil {
		t.Fatal(err)
	}
	return w.Code, mainBody
}

func pct(p float64) *float64 { return &p }

func TestMirrorCopiesRequest(t *testing.T) {
	m1, m2 := newRecorder(t, 0), newRecorder(t, 0)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: m1.dial()}, {Dial: m2.dial()}}})
	r := httptest.NewRequest("POST", "http://app.example.com/a%2Fb/c?x=1&y=2", strings.NewReader("payload"))
	r.Header.Set("X-Test", "v")
	r.Header.Set("Connection", "X-Hop")
	r.Header.Set("X-Hop", "gone")
	status, body := serve(t, h, r)
	if status != http.StatusTeapot || body != "payload" {
		t.Fatalf("main request: %d %q, want 418 payload", status, body)
	}
	want := seen{"POST", "/a/b/c", "x=1&y=2", "app.example.com", "v", "payload"}
	for _, m := range []*recorder{m1, m2} {
		if got := m.waitFor(t, 1)[0]; got != want {
			t.Errorf("mirror saw %+v, want %+v", got, want)
		}
	}
}

func TestMirrorBodies(t *testing.T) {
	cases := map[string]struct {
		body       string
		chunked    bool
		wantMirror bool
	}{
		"small":             {body: "0123456789", wantMirror: true},
		"smallChunked":      {body: "0123456789", chunked: true, wantMirror: true},
		"exactlyMax":        {body: strings.Repeat("x", 16), wantMirror: true},
		"tooLarge":          {body: strings.Repeat("y", 17)},
		"tooLargeChunked":   {body: strings.Repeat("z", 100), chunked: true},
		"empty":             {body: "", wantMirror: true},
		"largeUnderDefault": {body: strings.Repeat("w", 64<<10), wantMirror: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := newRecorder(t, 0)
			h := &Handler{Upstreams: []Upstream{{Dial: m.dial()}}, MaxBodySize: 16}
			if name == "largeUnderDefault" {
				h.MaxBodySize = 0
			}
			provision(t, h)
			var rd io.Reader = strings.NewReader(c.body)
			if c.chunked {
				rd = io.MultiReader(rd) // hides the length: ContentLength -1
			}
			r := httptest.NewRequest("PUT", "http://h/p", rd)
			if c.chunked {
				r.ContentLength = -1
			}
			if _, body := serve(t, h, r); body != c.body {
				t.Fatalf("main request got %d bytes, want %d", len(body), len(c.body))
			}
			if !c.wantMirror {
				time.Sleep(50 * time.Millisecond)
				if n := m.count(); n != 0 {
					t.Fatalf("oversized body mirrored %d times", n)
				}
				return
			}
			if got := m.waitFor(t, 1)[0].body; got != c.body {
				t.Errorf("mirror got %d bytes, want %d", len(got), len(c.body))
			}
		})
	}
}

// TestMirrorNeverDelays: a slow or unreachable mirror does not hold the main request.
func TestMirrorNeverDelays(t *testing.T) {
	slow := newRecorder(t, 2*time.Second)
	closed := httptest.NewServer(http.NotFoundHandler())
	deadDial := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: slow.dial()}, {Dial: deadDial}},
		Timeout: caddy.Duration(300 * time.Millisecond)})
	start := time.Now()
	for range 5 {
		if status, _ := serve(t, h, httptest.NewRequest("GET", "http://h/", nil)); status != http.StatusTeapot {
			t.Fatalf("status %d", status)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("5 requests took %v with a slow mirror", d)
	}
	slow.waitFor(t, 5)
}

func TestMirrorPercent(t *testing.T) {
	cases := map[string]struct {
		percent  *float64
		min, max int
	}{
		"unset":    {nil, 200, 200},
		"100":      {pct(100), 200, 200},
		"0":        {pct(0), 0, 0},
		"50":       {pct(50), 60, 140},
		"fraction": {pct(12.5), 5, 50},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := newRecorder(t, 0)
			h := provision(t, &Handler{Upstreams: []Upstream{{Dial: m.dial()}}, Percent: c.percent})
			for range 200 {
				serve(t, h, httptest.NewRequest("GET", "http://h/", nil))
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(h.inflight) > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := m.count(); n < c.min || n > c.max {
				t.Errorf("%d of 200 requests mirrored, want %d..%d", n, c.min, c.max)
			}
		})
	}
}

func TestMirrorSkipsUpgrades(t *testing.T) {
	m := newRecorder(t, 0)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: m.dial()}}})
	r := httptest.NewRequest("GET", "http://h/ws", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	serve(t, h, r)
	time.Sleep(50 * time.Millisecond)
	if n := m.count(); n != 0 {
		t.Errorf("upgrade request mirrored %d times", n)
	}
}

func TestMirrorInFlightBound(t *testing.T) {
	slow := newRecorder(t, time.Second)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: slow.dial()}}, MaxInFlight: 2})
	for range 5 {
		serve(t, h, httptest.NewRequest("GET", "http://h/", nil))
	}
	slow.waitFor(t, 2)
	time.Sleep(50 * time.Millisecond)
	if n := slow.count(); n != 2 {
		t.Errorf("%d copies sent with max_in_flight 2", n)
	}
}

func TestMirrorValidate(t *testing.T) {
	cases := map[string]string{
		`{"upstreams":[{"dial":"a:80"}],"percent":50.5}`: "",
		`{"upstreams":[{"dial":"a"}]}`:                   "not host:port",
		`{"upstreams":[{"dial":":80"}]}`:                 "not host:port",
		`{"percent":150}`:                                "outside 0..100",
		`{"percent":-1}`:                                 "outside 0..100",
		`{"max_body_size":-1}`:                           "negative",
		`{"max_buffered_bytes":-1}`:                      "max_buffered_bytes must not be negative",
		`{"protocol":"h2c"}`:                             "",
		`{"protocol":"h3"}`:                              "not supported",
	}
	for raw, want := range cases {
		var h Handler
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			t.Fatal(err)
		}
		err := h.Validate()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: Validate() = %v, want %q", raw, err, want)
		}
	}
}

func TestMirrorProvisionRefusesBadTLS(t *testing.T) {
	cases := map[string]string{
		`{"tls":{"server_name":"m","system_cas":true}}`:                  "",
		`{"tls":{"system_cas":true}}`:                                    "tls: server_name is required",
		`{"tls":{"server_name":"m","trusted_cas":["not a PEM"]}}`:        "tls: trusted_cas[0] holds no PEM certificate",
		`{"tls":{"server_name":"m","system_cas":true,"client_key":"k"}}`: "tls: client_certificate and client_key go together",
	}
	for raw, want := range cases {
		var h Handler
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		err := h.Provision(ctx)
		cancel()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: Provision() = %v, want %q", raw, err, want)
		}
	}
}

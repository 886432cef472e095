package mirror

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestMirrorStreamingBody: a sender that waits for the next handler to read its first
// message before it sends the second (a bidirectional gRPC stream does) is not held
// up, and the copy carries the whole body once it has ended.
func TestMirrorStreamingBody(t *testing.T) {
	m := newRecorder(t, 0)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: m.dial()}}, MaxBodySize: 64})
	pr, pw := io.Pipe()
	firstRead := make(chan struct{})
	go func() {
		_, _ = io.WriteString(pw, "first")
		select {
		case <-firstRead:
			_, _ = io.WriteString(pw, "second")
		case <-time.After(3 * time.Second):
		}
		_ = pw.Close()
	}()
	r := httptest.NewRequest("POST", "http://h/stream", pr)
	r.ContentLength = -1
	var mainBody string
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return err
		}
		close(firstRead)
		rest, err := io.ReadAll(r.Body)
		mainBody = string(buf) + string(rest)
		return err
	})
	done := make(chan error, 1)
	go func() { done <- h.ServeHTTP(httptest.NewRecorder(), r, next) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the mirror held the request: the next handler never saw the first message")
	}
	if mainBody != "firstsecond" {
		t.Errorf("main request got %q", mainBody)
	}
	if got := m.waitFor(t, 1)[0].body; got != "firstsecond" {
		t.Errorf("mirror got %q, want the whole stream", got)
	}
}

package mirror

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// blockingMirror is a mirror backend that answers nothing until it is released.
type blockingMirror struct {
	*httptest.Server
	arrived atomic.Int32
	release chan struct{}
}

func newBlockingMirror(t *testing.T) *blockingMirror {
	m := &blockingMirror{release: make(chan struct{})}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.arrived.Add(1)
		select {
		case <-m.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(m.Close)
	t.Cleanup(m.unblock)
	return m
}

func (m *blockingMirror) unblock() {
	select {
	case <-m.release:
	default:
		close(m.release)
	}
}

// sampleBuffered records the most bytes h holds for copies until stop is called.
func sampleBuffered(h *Handler) (stop func() int64) {
	var peak int64
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			peak = max(peak, h.buffered.used.Load())
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	return func() int64 { close(done); <-finished; return peak }
}

// waitBufferedZero fails t unless h gives back every byte within a bounded wait.
func waitBufferedZero(t *testing.T, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for h.buffered.used.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := h.buffered.used.Load(); n != 0 {
		t.Fatalf("%d bytes still held for copies", n)
	}
}

// TestMirrorBufferBudget: many large requests, half of unknown length, on a route
// whose mirror never answers all succeed promptly, while what the handler holds for
// copies stays within its budget and is all given back once the mirror answers.
func TestMirrorBufferBudget(t *testing.T) {
	const requests, size = 48, 768 << 10 // 36 MiB of bodies against an 8 MiB budget
	m := newBlockingMirror(t)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: strings.TrimPrefix(m.URL, "http://")}}})
	body := strings.Repeat("b", size)
	stop := sampleBuffered(h)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, requests)
	for i := range requests {
		wg.Go(func() {
			var rd io.Reader = strings.NewReader(body)
			if i%2 == 1 {
				rd = io.MultiReader(rd) // hides the length: recorded, not buffered ahead
			}
			r := httptest.NewRequest("POST", "http://h/upload", rd)
			if i%2 == 1 {
				r.ContentLength = -1
			}
			if status, got := serve(t, h, r); status != http.StatusTeapot || len(got) != size {
				errs <- "main request: status " + http.StatusText(status) + ", body short"
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(100 * time.Millisecond) // copies are still held: the mirror has not answered
	peak := stop()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if elapsed > 5*time.Second {
		t.Errorf("%d main requests took %v behind a mirror that never answers", requests, elapsed)
	}
	t.Logf("%d requests in %v; peak held %d bytes; %d copies reached the mirror", requests, elapsed, peak, m.arrived.Load())
	if peak > DefaultMaxBufferedBytes {
		t.Errorf("handler held %d bytes for copies, budget %d", peak, DefaultMaxBufferedBytes)
	}
	if peak < size || m.arrived.Load() == 0 {
		t.Errorf("nothing mirrored: peak %d bytes, %d copies", peak, m.arrived.Load())
	}
	m.unblock()
	waitBufferedZero(t, h)
}

// TestMirrorRecordingAbandoned: a body of unknown length that the next handler leaves
// unread gives its recorded bytes back when the request ends, and sends no copy.
func TestMirrorRecordingAbandoned(t *testing.T) {
	m := newRecorder(t, 0)
	h := provision(t, &Handler{Upstreams: []Upstream{{Dial: m.dial()}}})
	r := httptest.NewRequest("POST", "http://h/p", io.MultiReader(strings.NewReader(strings.Repeat("a", 4096))))
	r.ContentLength = -1
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := r.Body.Read(make([]byte, 100))
		return err
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatal(err)
	}
	waitBufferedZero(t, h)
	time.Sleep(50 * time.Millisecond)
	if n := m.count(); n != 0 {
		t.Errorf("a body read only in part was mirrored %d times", n)
	}
}

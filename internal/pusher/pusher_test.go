package pusher_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// TestPushRemembersAcknowledgements runs one sequence of pushes against three pods; each
// step builds on the acknowledgements the previous ones left. A pod the Pusher does not
// know is asked for its host tables (GET) before the frame is sent (POST /load).
func TestPushRemembersAcknowledgements(t *testing.T) {
	p := newPKI(t)
	f := startFleet(t, p, 3, ok)
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	tlsCfg := p.clientTLS(t, p.serverName)

	steps := []struct {
		name    string
		forget  string // Forget this Gateway before pushing
		gateway string // testGateway when empty
		pods    []int  // the pods targeted; all when nil
		gen     []int  // restart counts, see fleet.targets
		hash    string
		want    pusher.Result
		hits    []int64 // requests each pod has seen so far
	}{
		{name: "first push reaches every pod", hash: "h1",
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 3}, hits: []int64{2, 2, 2}},
		{name: "the same config sends nothing", hash: "h1",
			want: pusher.Result{Programmed: 3, Total: 3}, hits: []int64{2, 2, 2}},
		{name: "a new hash is sent again", hash: "h2",
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 3}, hits: []int64{3, 3, 3}},
		{name: "a restarted Caddy is pushed with the same hash", hash: "h2", gen: []int{0, 1},
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 1}, hits: []int64{3, 5, 3}},
		{name: "a dropped pod is not counted", hash: "h2", pods: []int{0, 2},
			want: pusher.Result{Programmed: 2, Total: 2}, hits: []int64{3, 5, 3}},
		{name: "a re-added pod was forgotten and is pushed again", hash: "h2", gen: []int{0, 1},
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 1}, hits: []int64{3, 7, 3}},
		{name: "acknowledgements are per Gateway", gateway: "infra/other", hash: "h2", gen: []int{0, 1},
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 3}, hits: []int64{5, 9, 5}},
		{name: "Forget drops everything about the Gateway", forget: testGateway, hash: "h2", gen: []int{0, 1},
			want: pusher.Result{Programmed: 3, Total: 3, Pushed: 3}, hits: []int64{7, 11, 7}},
		{name: "Forget left the other Gateway alone", forget: testGateway, gateway: "infra/other", hash: "h2", gen: []int{0, 1},
			want: pusher.Result{Programmed: 3, Total: 3}, hits: []int64{7, 11, 7}},
		{name: "a config without a hash still reaches a pod never pushed to", hash: "", pods: []int{0},
			want: pusher.Result{Programmed: 1, Total: 1, Pushed: 1}, hits: []int64{9, 11, 7}},
	}
	for _, s := range steps {
		if s.forget != "" {
			push.Forget(s.forget)
		}
		gw := s.gateway
		if gw == "" {
			gw = testGateway
		}
		targets := f.targets(s.gen...)
		if s.pods != nil {
			var sub []pusher.Target
			for _, i := range s.pods {
				sub = append(sub, targets[i])
			}
			targets = sub
		}
		res := push.Push(context.Background(), pusher.Request{
			Gateway: gw, Targets: targets, Config: config(s.hash), TLS: tlsCfg, Port: f.port,
		})
		if res.Programmed != s.want.Programmed || res.Total != s.want.Total || res.Pushed != s.want.Pushed || len(res.Errors) != 0 {
			t.Fatalf("%s: got %+v, want %+v", s.name, res, s.want)
		}
		if got := f.hits(); !slices.Equal(got, s.hits) {
			t.Fatalf("%s: pods saw %v requests, want %v", s.name, got, s.hits)
		}
	}

	// What a pod received is a POST /load of the configuration's JSON.
	r, body := f.pods[0].lastRequest()
	if r.Method != http.MethodPost || r.URL.Path != "/load" || r.Header.Get("Content-Type") != "application/json" || string(body) != string(config("").JSON) {
		t.Fatalf("pod 0 received %s %s (%s) %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"), body)
	}
}

// TestPushFailures covers the ways a push to a pod fails: pod 1 misbehaves, pod 0 is fine.
// A failed pod is not counted Programmed and the next push retries it.
func TestPushFailures(t *testing.T) {
	release := make(chan struct{})
	tests := map[string]struct {
		bad        podHandler // pod 1's handler
		serverName string     // the ServerName the operator expects; the pods' when empty
		wantErr    string     // in every error message
		wantOK     int        // pods programmed
	}{
		"caddy rejects the config": {
			bad: func(w http.ResponseWriter, _ *http.Request, _ int) {
				http.Error(w, `{"error":"loading config: unknown module: http.handlers.nope"}`, http.StatusBadRequest)
			},
			wantErr: `pod pod-1: caddy rejected the configuration (400): {"error":"loading config: unknown module: http.handlers.nope"}`,
			wantOK:  1,
		},
		"caddy fails": {
			bad:     func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) },
			wantErr: "pod pod-1: admin channel failed (500): ",
			wantOK:  1,
		},
		"the pod hangs past the timeout": {
			bad: func(_ http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			},
			wantErr: "context deadline exceeded",
			wantOK:  1,
		},
		"the pod is not who the operator expects": {
			serverName: "caddy-admin.other.infra",
			wantErr:    "tls: failed to verify certificate: x509: certificate is valid for caddy-admin.web.infra, not caddy-admin.other.infra",
		},
	}
	p := newPKI(t)
	t.Cleanup(func() { close(release) })
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := startFleet(t, p, 2, func(w http.ResponseWriter, r *http.Request, i int) {
				if i == 1 && tc.bad != nil {
					tc.bad(w, r, i)
					return
				}
				ok(w, r, i)
			})
			serverName := tc.serverName
			if serverName == "" {
				serverName = p.serverName
			}
			clock := newClock()
			push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 200 * time.Millisecond}, Now: clock.now})
			req := pusher.Request{
				Gateway: testGateway, Targets: f.targets(), Config: config("h1"),
				TLS: p.clientTLS(t, serverName), Port: f.port,
			}
			res := push.Push(context.Background(), req)
			failed := 2 - tc.wantOK
			if res.Programmed != tc.wantOK || res.Total != 2 || res.Pushed != 2 || len(res.Errors) != failed {
				t.Fatalf("got %+v, want %d of 2 programmed and %d errors", res, tc.wantOK, failed)
			}
			for _, e := range res.Errors {
				if !strings.Contains(e, tc.wantErr) {
					t.Fatalf("error %q does not contain %q", e, tc.wantErr)
				}
			}
			before := f.hits()
			if tc.serverName != "" && !slices.Equal(before, []int64{0, 0}) {
				t.Fatalf("pods served %v requests to an operator that refused them", before)
			}

			firstErrors := res.Errors
			if failed > 0 && res.RetryAfter != pusher.DefaultInitialBackoff {
				t.Fatalf("RetryAfter is %v, want the initial backoff %v", res.RetryAfter, pusher.DefaultInitialBackoff)
			}

			// Within the backoff the failed pods are left alone, and the error is kept.
			clock.advance(pusher.DefaultInitialBackoff / 2)
			res = push.Push(context.Background(), req)
			if res.Programmed != tc.wantOK || res.Pushed != 0 || !slices.Equal(res.Errors, firstErrors) {
				t.Fatalf("within the backoff: got %+v, want nothing pushed and the errors %q", res, firstErrors)
			}
			if failed > 0 && res.RetryAfter != pusher.DefaultInitialBackoff/2 {
				t.Fatalf("within the backoff: RetryAfter is %v, want the rest of the backoff", res.RetryAfter)
			}
			for _, e := range res.Errors {
				if !strings.Contains(e, tc.wantErr) {
					t.Fatalf("within the backoff: error %q lacks %q", e, tc.wantErr)
				}
			}
			if got := f.hits(); !slices.Equal(got, before) {
				t.Fatalf("within the backoff: pods saw %v requests after %v", got, before)
			}

			// After it, the next push retries the failed pods only, and the backoff doubles.
			clock.advance(pusher.DefaultInitialBackoff / 2)
			res = push.Push(context.Background(), req)
			if res.Programmed != tc.wantOK || res.Pushed != failed || len(res.Errors) != failed {
				t.Fatalf("retry: got %+v, want %d pushed", res, failed)
			}
			if failed > 0 && res.RetryAfter != 2*pusher.DefaultInitialBackoff {
				t.Fatalf("retry: RetryAfter is %v, want %v", res.RetryAfter, 2*pusher.DefaultInitialBackoff)
			}
			if got := f.hits(); got[0] != before[0] || (tc.serverName == "" && got[1] != before[1]+1) {
				t.Fatalf("retry: pods saw %v requests after %v", got, before)
			}
		})
	}
}

func TestPushBoundsConcurrency(t *testing.T) {
	const limit, pods = 2, 6
	var inFlight, peak atomic.Int64
	p := newPKI(t)
	f := startFleet(t, p, pods, func(w http.ResponseWriter, _ *http.Request, _ int) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		// Linger until a second request overlaps (or 2s pass), so a limit that is not
		// enforced shows as a peak above it.
		for i := 0; i < 200 && inFlight.Load() < limit; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(30 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 10 * time.Second, MaxConcurrent: limit}})
	res := push.Push(context.Background(), pusher.Request{
		Gateway: testGateway, Targets: f.targets(), Config: config("h1"),
		TLS: p.clientTLS(t, p.serverName), Port: f.port,
	})
	if res.Programmed != pods || len(res.Errors) != 0 {
		t.Fatalf("got %+v", res)
	}
	if got := peak.Load(); got != limit {
		t.Fatalf("the pods saw at most %d concurrent pushes, want %d", got, limit)
	}
}

func TestPushObservesEveryPush(t *testing.T) {
	p := newPKI(t)
	f := startFleet(t, p, 3, func(w http.ResponseWriter, r *http.Request, i int) {
		if i == 2 {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		ok(w, r, i)
	})
	type observation struct {
		d   time.Duration
		err error
	}
	var mu sync.Mutex
	var seen []observation
	clock := newClock()
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}, Now: clock.now, Observe: func(d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, observation{d, err})
	}})
	req := pusher.Request{
		Gateway: testGateway, Targets: f.targets(), Config: config("h1"),
		TLS: p.clientTLS(t, p.serverName), Port: f.port,
	}
	for i, want := range []struct{ calls, failures int }{
		{calls: 3, failures: 1}, // every pod
		{calls: 1, failures: 1}, // the retry of pod 2; the others are skipped
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		push.Push(context.Background(), req)
		clock.advance(pusher.DefaultInitialBackoff)
		mu.Lock()
		var failures int
		for _, o := range seen {
			if o.d <= 0 {
				t.Errorf("push %d: duration %v", i, o.d)
			}
			if o.err != nil {
				failures++
				if !strings.Contains(o.err.Error(), "caddy rejected the configuration (400): no") {
					t.Errorf("push %d: observed error %v", i, o.err)
				}
			}
		}
		if len(seen) != want.calls || failures != want.failures {
			t.Errorf("push %d: %d observations with %d failures, want %d with %d", i, len(seen), failures, want.calls, want.failures)
		}
		mu.Unlock()
	}
}

// TestPushBackoffIsPerConfiguration: a new configuration is sent to a failing pod at once
// (it may be the fix), and the backoff grows to its cap for one that keeps failing.
func TestPushBackoffIsPerConfiguration(t *testing.T) {
	p := newPKI(t)
	f := startFleet(t, p, 1, func(w http.ResponseWriter, _ *http.Request, _ int) {
		http.Error(w, "bad", http.StatusBadRequest)
	})
	clock := newClock()
	push := pusher.New(pusher.Options{Now: clock.now, Tuning: pusher.Tuning{
		Timeout: time.Second, InitialBackoff: time.Second, MaxBackoff: 3 * time.Second,
	}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), Config: config("h1"), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second} {
		res := push.Push(context.Background(), req)
		if res.Pushed != 1 || res.RetryAfter != want {
			t.Fatalf("failure %d: got %+v, want one push and RetryAfter %v", i+1, res, want)
		}
		clock.advance(want)
	}
	res := push.Push(context.Background(), req)
	if res.Pushed != 1 {
		t.Fatalf("after the capped backoff: got %+v, want a push", res)
	}
	req.Config = config("h2")
	if res := push.Push(context.Background(), req); res.Pushed != 1 || res.RetryAfter != time.Second {
		t.Fatalf("a new configuration: got %+v, want it pushed at once with a fresh backoff", res)
	}
}

// TestWaitSpacesPushes: a push that sent something holds the Gateway's next push back by
// MinInterval; a push that sent nothing does not, and other Gateways are not held back.
func TestWaitSpacesPushes(t *testing.T) {
	p := newPKI(t)
	f := startFleet(t, p, 1, ok)
	clock := newClock()
	tuning := pusher.Tuning{MinInterval: 300 * time.Millisecond}
	push := pusher.New(pusher.Options{Now: clock.now, Tuning: pusher.Tuning{Timeout: time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), Config: config("h1"), TLS: p.clientTLS(t, p.serverName), Port: f.port, Tuning: tuning}

	if w := push.Wait(testGateway, tuning); w != 0 {
		t.Fatalf("before any push: Wait = %v", w)
	}
	if res := push.Push(context.Background(), req); res.Pushed != 1 {
		t.Fatalf("got %+v", res)
	}
	clock.advance(100 * time.Millisecond)
	if w := push.Wait(testGateway, tuning); w != 200*time.Millisecond {
		t.Fatalf("100ms after a push: Wait = %v, want 200ms", w)
	}
	if w := push.Wait("infra/other", tuning); w != 0 {
		t.Fatalf("another Gateway: Wait = %v, want 0", w)
	}
	if w := push.Wait(testGateway, pusher.Tuning{MinInterval: -1}); w != 0 {
		t.Fatalf("a negative MinInterval: Wait = %v, want 0", w)
	}
	if w := push.Wait(testGateway, pusher.Tuning{}); w != 0 {
		t.Fatalf("no MinInterval (the default): Wait = %v, want 0", w)
	}
	clock.advance(200 * time.Millisecond)
	if w := push.Wait(testGateway, tuning); w != 0 {
		t.Fatalf("after MinInterval: Wait = %v", w)
	}
	if res := push.Push(context.Background(), req); res.Pushed != 0 {
		t.Fatalf("an unchanged config: got %+v", res)
	}
	clock.advance(10 * time.Millisecond)
	if w := push.Wait(testGateway, tuning); w != 0 {
		t.Fatalf("after a push that sent nothing: Wait = %v, want 0", w)
	}
}

// TestPushAsksOnlyTargetsItDoesNotKnow runs against two fake Caddies that answer GET
// /id/<id> for the config they run. Targets the Pusher has no memory of are asked first
// and pushed to only when they run something else; targets it knows are never asked.
func TestPushAsksOnlyTargetsItDoesNotKnow(t *testing.T) {
	p := newPKI(t)
	var mu sync.Mutex
	running := []string{"h1", "h0"} // the hash each pod runs
	var f *fleet
	f = startFleet(t, p, 2, func(w http.ResponseWriter, r *http.Request, i int) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/id/config-"+running[i]:
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodGet && r.URL.Path == caddyjson.TablesPath:
			_, _ = w.Write([]byte(`{"tables":[]}`))
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNotFound)
		case r.URL.Path == "/load":
			_, body := f.pods[i].lastRequest()
			running[i] = strings.TrimSuffix(strings.TrimPrefix(string(body), `{"hash":"`), `"}`)
		}
	})
	withID := func(hash string) pusher.Config {
		c := config(hash)
		c.ID = "config-" + hash
		return c
	}
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), Config: withID("h1"), TLS: p.clientTLS(t, p.serverName), Port: f.port}

	steps := []struct {
		name   string
		config pusher.Config
		want   pusher.Result
		hits   []int64
	}{
		{name: "unknown pods are asked; the one running h1 is not pushed to", config: withID("h1"),
			want: pusher.Result{Programmed: 2, Total: 2, Pushed: 1, Verified: 1}, hits: []int64{2, 3}},
		{name: "known pods are pushed a change without asking", config: withID("h2"),
			want: pusher.Result{Programmed: 2, Total: 2, Pushed: 2}, hits: []int64{3, 4}},
		{name: "nothing is asked or sent when they run it", config: withID("h2"),
			want: pusher.Result{Programmed: 2, Total: 2}, hits: []int64{3, 4}},
	}
	for _, s := range steps {
		req.Config = s.config
		res := push.Push(context.Background(), req)
		if res.Programmed != s.want.Programmed || res.Total != s.want.Total || res.Pushed != s.want.Pushed || res.Verified != s.want.Verified || len(res.Errors) != 0 {
			t.Fatalf("%s: got %+v, want %+v", s.name, res, s.want)
		}
		if got := f.hits(); !slices.Equal(got, s.hits) {
			t.Fatalf("%s: pods saw %v requests, want %v", s.name, got, s.hits)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(running, []string{"h2", "h2"}) {
		t.Fatalf("the pods run %v", running)
	}
}

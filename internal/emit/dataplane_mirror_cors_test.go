package emit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mirrorCORSFixture exercises RequestMirror (single, multiple, percentage) and CORS
// through the operator's own Caddy modules.
const mirrorCORSFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: body, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: m1, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: m2, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirror-cors, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /mirror}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m1, port: 8080}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /mirror-body}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m1, port: 8080}}}]
    backendRefs: [{name: body, port: 8080}]
  - matches: [{path: {value: /mirrors}}]
    filters:
    - {type: RequestMirror, requestMirror: {backendRef: {name: m1, port: 8080}}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: m2, port: 8080}}}
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /mirror-percent}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m2, port: 8080}, percent: 50}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /mirror-fraction}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m2, port: 8080}, fraction: {numerator: 1, denominator: 4}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /cors-1}}]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://www.foo.com", "https://*.bar.com"]
        allowMethods: [GET, OPTIONS]
        allowHeaders: [x-header-1, x-header-2]
        exposeHeaders: [x-header-3, x-header-4]
        allowCredentials: true
        maxAge: 3600
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /cors-wildcard}}]
    filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"]}}]
    backendRefs: [{name: a, port: 8080}]
`

// mirrorSink records what a mirror backend receives, by path.
type mirrorSink struct {
	*httptest.Server
	mu     sync.Mutex
	byPath map[string][]mirrored
}

type mirrored struct{ method, query, host, header, body string }

func newMirrorSink(t *testing.T) *mirrorSink {
	s := &mirrorSink{byPath: map[string][]mirrored{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.byPath[r.URL.Path] = append(s.byPath[r.URL.Path], mirrored{r.Method, r.URL.RawQuery, r.Host, r.Header.Get("X-Test"), string(b)})
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *mirrorSink) got(path string) []mirrored {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mirrored(nil), s.byPath[path]...)
}

// waitFor polls, for at most 3s, until path has at least n copies.
func (s *mirrorSink) waitFor(t *testing.T, path string, n int) []mirrored {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); len(s.got(path)) < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	got := s.got(path)
	if len(got) < n {
		t.Fatalf("mirror got %d copies of %s, want %d", len(got), path, n)
	}
	return got
}

// settle waits until path's count stops changing for 200ms (at most 3s) and returns it.
func (s *mirrorSink) settle(path string) int {
	last, since := -1, time.Now()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n := len(s.got(path)); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 200*time.Millisecond {
			break
		}
	}
	return last
}

// bodyBackend answers with the request body it read (all of it first: an HTTP/1
// server cannot read the body once it has started the response).
func bodyBackend(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestDataPlaneMirrorCORS runs the mirror and CORS modules inside the real Caddy.
func TestDataPlaneMirrorCORS(t *testing.T) {
	a, body, m1, m2 := echoBackend(t, "a"), bodyBackend(t), newMirrorSink(t), newMirrorSink(t)
	d := startDataPlane(t, mirrorCORSFixture, map[string]string{
		"a.default.svc.cluster.local:8080":    a.Listener.Addr().String(),
		"body.default.svc.cluster.local:8080": body.Listener.Addr().String(),
		"m1.default.svc.cluster.local:8080":   m1.Listener.Addr().String(),
		"m2.default.svc.cluster.local:8080":   m2.Listener.Addr().String(),
	})
	cases := map[string]func(t *testing.T, d *dataPlane){
		"HTTPRouteRequestMirror": func(t *testing.T, d *dataPlane) {
			e := d.expect("GET", "/mirror/x?k=v", map[string]string{"X-Test": "t1", "Host": "app.example.com"}, 200)
			if e.Backend != "a" || e.Path != "/mirror/x" {
				t.Errorf("main request reached %q %q, want a /mirror/x", e.Backend, e.Path)
			}
			got := m1.waitFor(t, "/mirror/x", 1)[0]
			if want := (mirrored{"GET", "k=v", "app.example.com", "t1", ""}); got != want {
				t.Errorf("mirror saw %+v, want %+v", got, want)
			}
			if n := len(m2.got("/mirror/x")); n != 0 {
				t.Errorf("m2 got %d copies of a request mirrored to m1 only", n)
			}
		},
		"HTTPRouteRequestMirror/body": func(t *testing.T, d *dataPlane) {
			payload := strings.Repeat("payload-", 1000)
			resp, err := d.client.Post(d.base+"/mirror-body", "text/plain", strings.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != payload {
				t.Errorf("main request: %d with %d bytes, want 200 with %d", resp.StatusCode, len(b), len(payload))
			}
			if got := m1.waitFor(t, "/mirror-body", 1)[0]; got.method != "POST" || got.body != payload {
				t.Errorf("mirror saw %s with %d bytes, want POST with %d", got.method, len(got.body), len(payload))
			}
		},
		"HTTPRouteRequestMultipleMirrors": func(t *testing.T, d *dataPlane) {
			if e := d.expect("GET", "/mirrors", nil, 200); e.Backend != "a" {
				t.Errorf("main request reached %q", e.Backend)
			}
			m1.waitFor(t, "/mirrors", 1)
			m2.waitFor(t, "/mirrors", 1)
		},
		"HTTPRouteRequestPercentageMirror": func(t *testing.T, d *dataPlane) {
			const n = 200
			for range n {
				d.expect("GET", "/mirror-percent", nil, 200)
				d.expect("GET", "/mirror-fraction", nil, 200)
			}
			// 50% and 25% of 200: binomial, standard deviations about 7 and 6.
			if got := m2.settle("/mirror-percent"); got < 60 || got > 140 {
				t.Errorf("percent 50 mirrored %d of %d", got, n)
			}
			if got := m2.settle("/mirror-fraction"); got < 20 || got > 85 {
				t.Errorf("fraction 1/4 mirrored %d of %d", got, n)
			}
		},
		"HTTPRouteCORS": testCORS,
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) { d.t = t; cases[name](t, d) })
	}
}

func testCORS(t *testing.T, d *dataPlane) {
	const absent = "<absent>"
	cases := []struct {
		name, method, path string
		headers            map[string]string
		status             int
		want               map[string]string
	}{
		{"preflightExact", "OPTIONS", "/cors-1", map[string]string{"Origin": "https://www.foo.com",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-header-1, x-header-2"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Methods": "GET, OPTIONS",
				"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Expose-Headers": "x-header-3, x-header-4",
				"Access-Control-Max-Age": "3600", "Access-Control-Allow-Credentials": "true", "X-Backend-Resp": absent}},
		{"preflightWildcardManyLabels", "OPTIONS", "/cors-1", map[string]string{"Origin": "https://xpto.www.bar.com",
			"Access-Control-Request-Method": "GET"}, 200, map[string]string{"Access-Control-Allow-Origin": "https://xpto.www.bar.com"}},
		{"preflightNotAllowed", "OPTIONS", "/cors-1", map[string]string{"Origin": "https://foobar.com",
			"Access-Control-Request-Method": "GET"}, 200, map[string]string{"Access-Control-Allow-Origin": absent,
			"Access-Control-Allow-Credentials": absent, "X-Backend-Resp": absent}},
		{"actualAllowed", "GET", "/cors-1", map[string]string{"Origin": "https://www.foo.com"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "x-header-3, x-header-4", "Vary": "Origin", "X-Backend-Resp": "original"}},
		{"actualNotAllowed", "GET", "/cors-1", map[string]string{"Origin": "https://foobar.com"}, 200,
			map[string]string{"Access-Control-Allow-Origin": absent, "X-Backend-Resp": "original"}},
		{"wildcardPreflightEchoes", "OPTIONS", "/cors-wildcard", map[string]string{"Origin": "https://foobar.com:12345",
			"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-a"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://foobar.com:12345", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-a", "Access-Control-Max-Age": "5", "Access-Control-Allow-Credentials": absent}},
		{"wildcardActual", "PUT", "/cors-wildcard", map[string]string{"Origin": "https://foobar.com"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://foobar.com", "Access-Control-Allow-Credentials": absent}},
	}
	for _, c := range cases {
		resp, _ := d.do(c.method, c.path, c.headers)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		for k, v := range c.want {
			got := strings.Join(resp.Header.Values(k), ", ")
			switch {
			case v == absent && got != "":
				t.Errorf("%s: %s = %q, want it absent", c.name, k, got)
			case k == "Vary" && !strings.Contains(got, v):
				t.Errorf("%s: Vary = %q, want it to contain %q", c.name, got, v)
			case v != absent && k != "Vary" && got != v:
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
	}
}

package emit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/caddy-gateway/operator/internal/testports"
)

// authService is an HTTP authorization service for listener filters: it allows
// "Authorization: Bearer good" with the response headers of allow, and denies anything
// else with 403 and a body of its own. It records the requests it gets.
type authService struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
	// bodies are the lengths of the bodies of seen.
	bodies []int
}

func newAuthService(t *testing.T, allow map[string]string) *authService {
	a := &authService{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.seen, a.bodies = append(a.seen, r.Clone(r.Context())), append(a.bodies, len(body))
		a.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("X-Auth-Reason", "no token")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "denied by auth")
			return
		}
		for k, v := range allow {
			w.Header().Set(k, v)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *authService) requests() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*http.Request(nil), a.seen...)
}

const listenerFiltersYAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - name: guarded
    port: PORT
    protocol: HTTP
    hostname: app.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: authz, port: 9000}
          http:
            path: /check
            allowedHeaders: [X-Tenant]
            allowedResponseHeaders: [X-User, Host]
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: roles, port: 9000}
          http:
            allowedHeaders: [X-User]
            allowedResponseHeaders: [X-Role]
  - name: broken
    port: PORT
    protocol: HTTP
    hostname: broken.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: missing, port: 9000}
          http: {allowedResponseHeaders: [X-User]}
  - name: down
    port: PORT
    protocol: HTTP
    hostname: down.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: down, port: 9000}
          http: {allowedResponseHeaders: [X-User]}
  - name: copy-all
    port: PORT
    protocol: HTTP
    hostname: all.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth:
          protocol: HTTP
          backendRef: {name: authz, port: 9000}
  - name: other
    port: PORT
    protocol: HTTP
    hostname: evil.example.com
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: default}
spec: {clusterIP: 10.0.0.50, ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: roles, namespace: default}
spec: {clusterIP: 10.0.0.51, ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: admins, namespace: default}
spec: {clusterIP: 10.0.0.1, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: users, namespace: default}
spec: {clusterIP: 10.0.0.2, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: down, namespace: default}
spec: {clusterIP: 10.0.0.52, ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: uploads, namespace: default}
spec: {clusterIP: 10.0.0.3, ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: by-role, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /upload}}]
    backendRefs: [{name: uploads, port: 8080}]
  - matches: [{headers: [{name: X-Role, value: admin}]}]
    backendRefs: [{name: admins, port: 8080}]
  - backendRefs: [{name: users, port: 8080}]
`

// TestDataPlaneListenerFilters: a listener's ExternalAuth filters run in order before
// its routes are matched. A request the service allows reaches the route its copied
// headers select, with the client's own copy of those headers replaced and its Host
// unchanged though the service answers one; the service is asked with the request's
// method and without its body, which the backend gets; a filter without
// allowedResponseHeaders copies every header but Host; a denied one gets the service's
// status, headers and body, and neither the next filter nor a backend sees it; a
// filter whose service does not resolve answers 500, one whose service does not answer
// 502; other listeners are not filtered.
func TestDataPlaneListenerFilters(t *testing.T) {
	authz := newAuthService(t, map[string]string{"X-User": "alice", "Host": "evil.example.com", "X-Other": "no"})
	roles := newAuthService(t, map[string]string{"X-Role": "admin"})
	d := startDataPlane(t, listenerFiltersYAML, map[string]string{
		"10.0.0.50:9000": authz.Listener.Addr().String(),
		"10.0.0.51:9000": roles.Listener.Addr().String(),
		"10.0.0.1:8080":  echoBackend(t, "admins").Listener.Addr().String(),
		"10.0.0.2:8080":  echoBackend(t, "users").Listener.Addr().String(),
		"10.0.0.3:8080":  bodyEcho(t).Listener.Addr().String(),
		"10.0.0.52:9000": fmt.Sprintf("127.0.0.1:%d", testports.Port(t)),
	})

	t.Run("allowed", func(t *testing.T) {
		e := d.expect("POST", "/orders?x=1", map[string]string{"Host": "app.example.com", "Authorization": "Bearer good",
			"X-User": "forged", "X-Tenant": "t1", "X-Secret": "s"}, 200)
		if e.Method != "POST" {
			t.Errorf("backend got method %q, want POST", e.Method)
		}
		if e.Backend != "admins" {
			t.Errorf("backend %q, want admins: the route must match on the header the second filter set", e.Backend)
		}
		if got := e.Header.Get("X-User"); got != "alice" {
			t.Errorf("X-User at the backend %q, want the service's alice", got)
		}
		if e.Host != "app.example.com" {
			t.Errorf("Host at the backend %q, want app.example.com: a filter must not change it", e.Host)
		}
		if e.Header.Get("X-Other") != "" || e.Method != "POST" || e.Path != "/orders" || e.Query != "x=1" {
			t.Errorf("backend got %s %s?%s X-Other=%q", e.Method, e.Path, e.Query, e.Header.Get("X-Other"))
		}
		seen := authz.requests()
		r := seen[len(seen)-1]
		if r.URL.RequestURI() != "/check/orders?x=1" || r.Method != "POST" || r.Host != "app.example.com" ||
			r.ContentLength != 0 || r.Header.Get("X-Tenant") != "t1" ||
			r.Header.Get("X-Secret") != "" || r.Header.Get("X-User") != "" {
			t.Errorf("auth service got %s %s host %q length %d headers %v", r.Method, r.URL.RequestURI(), r.Host,
				r.ContentLength, r.Header)
		}
		rs := roles.requests()
		if got := rs[len(rs)-1].Header.Get("X-User"); got != "alice" {
			t.Errorf("second filter saw X-User %q, want alice: it must run after the first", got)
		}
	})

	t.Run("body", func(t *testing.T) {
		req, _ := http.NewRequest("PUT", d.base+"/upload", strings.NewReader("payload"))
		req.Host = "app.example.com"
		req.Header.Set("Authorization", "Bearer good")
		resp, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(got) != "PUT payload" {
			t.Errorf("backend answered %d %q, want the body it was sent", resp.StatusCode, got)
		}
		authz.mu.Lock()
		n, last := authz.bodies[len(authz.bodies)-1], authz.seen[len(authz.seen)-1]
		authz.mu.Unlock()
		if n != 0 || last.Method != "PUT" {
			t.Errorf("auth service got %s with a body of %d bytes, want PUT without one", last.Method, n)
		}
	})

	t.Run("copy every header", func(t *testing.T) {
		e := d.expect("GET", "/", map[string]string{"Host": "all.example.com", "Authorization": "Bearer good"}, 200)
		if e.Header.Get("X-User") != "alice" || e.Header.Get("X-Other") != "no" || e.Host != "all.example.com" {
			t.Errorf("backend got X-User %q X-Other %q Host %q, want alice, no, all.example.com",
				e.Header.Get("X-User"), e.Header.Get("X-Other"), e.Host)
		}
	})

	t.Run("denied", func(t *testing.T) {
		before := len(roles.requests())
		req, _ := http.NewRequest("GET", d.base+"/orders", nil)
		req.Host = "app.example.com"
		req.Header.Set("X-Role", "admin")
		resp, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if resp.StatusCode != http.StatusForbidden || body != "denied by auth" || resp.Header.Get("X-Auth-Reason") != "no token" {
			t.Errorf("denied: %d %q %v, want the service's 403", resp.StatusCode, body, resp.Header)
		}
		if len(roles.requests()) != before {
			t.Errorf("the second filter ran after the first denied")
		}
	})

	t.Run("service down", func(t *testing.T) {
		d.expect("GET", "/", map[string]string{"Host": "down.example.com", "Authorization": "Bearer good"}, 502)
	})

	t.Run("unresolved service", func(t *testing.T) {
		d.expect("GET", "/", map[string]string{"Host": "broken.example.com", "Authorization": "Bearer good"}, 500)
	})

	t.Run("other listener", func(t *testing.T) {
		if e := d.expect("GET", "/", map[string]string{"Host": "evil.example.com"}, 200); e.Backend != "users" {
			t.Errorf("backend %q, want users", e.Backend)
		}
	})
}

// bodyEcho answers with the request's method and body.
func bodyEcho(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Method+" "+string(b))
	}))
	t.Cleanup(s.Close)
	return s
}

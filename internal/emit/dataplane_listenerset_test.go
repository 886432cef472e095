package emit_test

import "testing"

// listenerSetFixture: a Gateway listener and the listeners of two ListenerSets share the
// port. The set of team-a is allowed (label shared=true): its listener serves
// a.example.com with the routes that name the set; its listener asking for the Gateway
// listener's hostname is conflicted and serves nothing. The set of team-b is not allowed.
const listenerSetFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: caddy
  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {shared: "true"}}}}
  listeners:
  - {name: http, port: PORT, protocol: HTTP, hostname: gw.example.com}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {shared: "true"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: set, namespace: team-a, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRef: {name: gw, namespace: infra}
  listeners:
  - {name: http, port: PORT, protocol: HTTP, hostname: a.example.com}
  - {name: takeover, port: PORT, protocol: HTTP, hostname: gw.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: set, namespace: team-b, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRef: {name: gw, namespace: infra}
  listeners:
  - {name: http, port: PORT, protocol: HTTP, hostname: b.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Service
metadata: {name: gw, namespace: infra}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: team-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gw, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: gw, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: team-a}
spec:
  parentRefs:
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: set}
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: set, namespace: team-b}
  rules:
  - backendRefs: [{name: app, port: 8080}]
`

// TestDataPlaneListenerSet: requests reach the routes of the listener they arrive on,
// the Gateway's or an allowed ListenerSet's; a set's listener that lost its hostname to
// the Gateway's takes none of its requests, and a set the Gateway does not allow serves
// nothing.
func TestDataPlaneListenerSet(t *testing.T) {
	gw, app := echoBackend(t, "gw"), echoBackend(t, "app")
	d := startDataPlane(t, listenerSetFixture, map[string]string{
		"gw.infra.svc.cluster.local:8080":   gw.Listener.Addr().String(),
		"app.team-a.svc.cluster.local:8080": app.Listener.Addr().String(),
	})
	for host, want := range map[string]string{"gw.example.com": "gw", "a.example.com": "app"} {
		if e := d.expect("GET", "/", map[string]string{"Host": host}, 200); e.Backend != want {
			t.Errorf("Host %s: served by %q, want %q", host, e.Backend, want)
		}
	}
	d.expect("GET", "/", map[string]string{"Host": "b.example.com"}, 404)
}

// listenerSetFiltersFixture: a tenant's ListenerSet guards its own hostname with its own
// authorization service; its other listener and the Gateway's, on the same port, run no
// filter.
const listenerSetFiltersFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: caddy
  allowedListeners: {namespaces: {from: All}}
  listeners:
  - {name: http, port: PORT, protocol: HTTP, hostname: gw.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: set, namespace: team-a, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRef: {name: gw, namespace: infra}
  listeners:
  - name: guarded
    port: PORT
    protocol: HTTP
    hostname: a.example.com
    filters:
      requests:
      - type: ExternalAuth
        externalAuth: {protocol: HTTP, backendRef: {name: authz, port: 9000}, http: {allowedResponseHeaders: [X-User]}}
  - {name: open, port: PORT, protocol: HTTP, hostname: open.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: team-a}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: team-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: team-a}
spec:
  parentRefs:
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: set}
  - {name: gw, namespace: infra}
  rules:
  - backendRefs: [{name: app, port: 8080}]
`

// TestDataPlaneListenerSetFilters: a ListenerSet listener's ExternalAuth filter asks the
// set's own authorization service about every request to its hostname (denied ones get
// the service's answer, allowed ones reach the route with the copied header), and no
// other listener of the port is filtered.
func TestDataPlaneListenerSetFilters(t *testing.T) {
	authz := newAuthService(t, map[string]string{"X-User": "alice"})
	d := startDataPlane(t, listenerSetFiltersFixture, map[string]string{
		"authz.team-a.svc.cluster.local:9000": authz.Listener.Addr().String(),
		"app.team-a.svc.cluster.local:8080":   echoBackend(t, "app").Listener.Addr().String(),
	})
	d.expect("GET", "/", map[string]string{"Host": "a.example.com"}, 403)
	if e := d.expect("GET", "/", map[string]string{"Host": "a.example.com", "Authorization": "Bearer good"}, 200); e.Header.Get("X-User") != "alice" {
		t.Errorf("X-User at the backend %q, want the service's alice", e.Header.Get("X-User"))
	}
	asked := len(authz.requests())
	for _, host := range []string{"open.example.com", "gw.example.com"} {
		d.expect("GET", "/", map[string]string{"Host": host}, 200)
	}
	if n := len(authz.requests()); n != asked {
		t.Errorf("the authorization service was asked %d times for other listeners' requests", n-asked)
	}
}

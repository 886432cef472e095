package emit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/testports"
)

// TestDataPlaneDestinationPort (GEP-957, HTTPRouteDestinationPortMatching): a route
// whose parentRef names a port is served on the listener of that port and not on the
// other port's; one whose port and sectionName name different listeners is served on
// neither.
func TestDataPlaneDestinationPort(t *testing.T) {
	second := testports.Port(t)
	yamlText := strings.ReplaceAll(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: first, port: PORT, protocol: HTTP}
  - {name: second, port: SECOND, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: one, namespace: default}
spec: {clusterIP: 10.0.0.1, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: two, namespace: default}
spec: {clusterIP: 10.0.0.2, ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: on-first, namespace: default}
spec:
  parentRefs: [{name: gw, port: PORT}]
  rules:
  - backendRefs: [{name: one, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: on-second, namespace: default}
spec:
  parentRefs: [{name: gw, port: SECOND}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /two}}]
    backendRefs: [{name: two, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mismatch, namespace: default}
spec:
  parentRefs: [{name: gw, port: SECOND, sectionName: first}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /mismatch}}]
    backendRefs: [{name: two, port: 8080}]
`, "SECOND", fmt.Sprint(second))
	d := startDataPlane(t, yamlText, map[string]string{
		"10.0.0.1:8080": echoBackend(t, "one").Listener.Addr().String(),
		"10.0.0.2:8080": echoBackend(t, "two").Listener.Addr().String(),
	})
	firstBase := d.base
	for _, c := range []struct {
		port        int
		path        string
		status      int
		wantBackend string
	}{
		{d.listenPort, "/", 200, "one"},
		{d.listenPort, "/two", 200, "one"},
		{d.listenPort, "/mismatch", 200, "one"},
		{second, "/two", 200, "two"},
		{second, "/", 404, ""},
		{second, "/mismatch", 404, ""},
	} {
		d.base = fmt.Sprintf("http://127.0.0.1:%d", c.port)
		if e := d.expect("GET", c.path, nil, c.status); e.Backend != c.wantBackend {
			t.Errorf("port %d %s: backend %q, want %q", c.port, c.path, e.Backend, c.wantBackend)
		}
	}
	d.base = firstBase
}

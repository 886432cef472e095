package emit_test

import "testing"

// isolationFixture holds routes of one namespace that must not hurt the other's: regular
// expressions valid alone but not as Caddy compiles them (\Q quotes the anchors), and
// an ExternalName Service as a backend.
const isolationFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: tenant-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: outside, namespace: tenant-a}
spec: {type: ExternalName, externalName: example.com, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: tenant-b}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: poison, namespace: tenant-a}
spec:
  parentRefs: [{name: gw, namespace: default}]
  rules:
  - matches: [{path: {type: RegularExpression, value: '/b\Q'}}]
    backendRefs: [{name: svc, port: 8080}]
  - matches: [{path: {value: /h}, headers: [{type: RegularExpression, name: X-P, value: 'v\Q'}]}]
    backendRefs: [{name: svc, port: 8080}]
  - matches: [{path: {value: /q}, queryParams: [{type: RegularExpression, name: q, value: '\Q'}]}]
    backendRefs: [{name: svc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: poison-grpc, namespace: tenant-a}
spec:
  parentRefs: [{name: gw, namespace: default}]
  rules:
  - matches: [{method: {type: RegularExpression, service: 'pkg\Q'}}]
    backendRefs: [{name: svc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: external, namespace: tenant-a}
spec:
  parentRefs: [{name: gw, namespace: default}]
  rules:
  - matches: [{path: {value: /ext-only}}]
    backendRefs: [{name: outside, port: 8080}]
  - matches: [{path: {value: /ext-mixed}}]
    backendRefs: [{name: outside, port: 8080}, {name: svc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: good, namespace: tenant-b}
spec:
  parentRefs: [{name: gw, namespace: default}]
  rules:
  - matches:
    - path: {type: RegularExpression, value: '/b\Q.\E[0-9]+'}
      headers: [{type: RegularExpression, name: X-Fine, value: 'v[0-9]'}]
      queryParams: [{type: RegularExpression, name: q, value: '\Qa(b\E'}]
    backendRefs: [{name: svc, port: 8080}]
`

// TestDataPlaneIsolation: Caddy takes the config of a Gateway where one namespace's
// routes hold patterns Caddy cannot compile and an ExternalName backend; the other
// namespace's route is served, the refused routes are not, and the ExternalName share
// answers 500.
func TestDataPlaneIsolation(t *testing.T) {
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	d := startDataPlane(t, isolationFixture, map[string]string{
		"svc.tenant-a.svc.cluster.local:8080": a.Listener.Addr().String(),
		"svc.tenant-b.svc.cluster.local:8080": b.Listener.Addr().String(),
	})
	if e := d.expect("GET", "/b.42?q=a(b", map[string]string{"X-Fine": "v1"}, 200); e.Backend != "b" {
		t.Errorf("the other namespace's route: backend %q, want b", e.Backend)
	}
	d.expect("GET", "/b", nil, 404)
	d.expect("GET", "/h", map[string]string{"X-P": "v"}, 404)
	d.expect("GET", "/q?q=", nil, 404)
	d.expect("POST", "/pkg/Get", map[string]string{"Content-Type": "application/grpc"}, 404)
	d.expect("GET", "/ext-only", nil, 500)
	statuses := map[int]int{}
	for range 20 {
		resp, e := d.do("GET", "/ext-mixed", nil)
		statuses[resp.StatusCode]++
		if resp.StatusCode == 200 && e.Backend != "a" {
			t.Errorf("/ext-mixed served by %q, want a", e.Backend)
		}
	}
	if statuses[200] == 0 || statuses[500] == 0 || statuses[200]+statuses[500] != 20 {
		t.Errorf("/ext-mixed answered %v, want only 200 (valid backend) and 500 (ExternalName)", statuses)
	}
}

package emit_test

import (
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestSplitKeysNameTheRule shows that two routes splitting between the same backends
// with the same weights get a selection state each, and so does a GRPCRoute of the
// same name as one of them: the keys name the rule and its route's kind, and the plain
// proxies are not shared between the routes as other identical ones are. The keys are
// in the route tables.
func TestSplitKeysNameTheRule(t *testing.T) {
	in, err := fixture.Load([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: 80, protocol: HTTP}, {name: grpc, port: 81, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: stable, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {value: /a}}, {path: {value: /also-a}}]
    backendRefs: [{name: stable, port: 8080, weight: 95}, {name: canary, port: 8080, weight: 5}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {value: /b}}]
    backendRefs: [{name: stable, port: 8080, weight: 95}, {name: canary, port: 8080, weight: 5}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: grpc}]
  rules:
  - backendRefs: [{name: stable, port: 8080, weight: 95}, {name: canary, port: 8080, weight: 5}]
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := emit.Emit(translator.Translate(in).IR, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const backends = ` stable.default.svc.cluster.local:8080 canary.default.svc.cluster.local:8080"`
	routes := string(tablesRoutes(res))
	for key, want := range map[string]int{`"key":"HTTPRoute default/a/rule/0` + backends: 2,
		`"key":"HTTPRoute default/b/rule/0` + backends: 1, `"key":"GRPCRoute default/a/rule/0` + backends: 1} {
		// Route a's two matches have one key (one state).
		if n := strings.Count(routes, key); n != want {
			t.Errorf("%s appears %d times, want %d", key, n, want)
		}
	}
}

package controller

import (
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// TestRouteBackendKeys: the Services a route needs include the backends of its mirror
// filters, rule-level and backend-level; non-Service kinds are left out.
func TestRouteBackendKeys(t *testing.T) {
	var rt gwapiv1.HTTPRoute
	if err := yaml.Unmarshal([]byte(`
metadata: {namespace: app, name: r}
spec:
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: mirror, port: 8080}}
    backendRefs:
    - name: main
      port: 8080
      filters:
      - type: RequestMirror
        requestMirror: {backendRef: {name: other-mirror, namespace: other, port: 80}}
    - {group: example.com, kind: Bucket, name: b}
`), &rt); err != nil {
		t.Fatal(err)
	}
	got := routeBackendKeys(&rt)
	want := []client.ObjectKey{{Namespace: "app", Name: "mirror"}, {Namespace: "app", Name: "main"}, {Namespace: "other", Name: "other-mirror"}}
	if !slices.Equal(got, want) {
		t.Errorf("routeBackendKeys = %v, want %v", got, want)
	}
}

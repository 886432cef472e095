package controller

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// TestRouteBackendKeys: the Services a route needs include the backends of its mirror
// filters, rule-level and backend-level; non-Service kinds are left out. The same rules
// read the same for every kind with mirror filters.
func TestRouteBackendKeys(t *testing.T) {
	const rules = `
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
`
	want := []client.ObjectKey{{Namespace: "app", Name: "mirror"}, {Namespace: "app", Name: "main"}, {Namespace: "other", Name: "other-mirror"}}
	for _, k := range []routeKind{httpRouteKind, grpcRouteKind} {
		t.Run(k.kind(), func(t *testing.T) {
			rt := k.newRoute()
			if err := yaml.Unmarshal([]byte(rules), rt); err != nil {
				t.Fatal(err)
			}
			if got := k.backendKeys(rt); !slices.Equal(got, want) {
				t.Errorf("backendKeys = %v, want %v", got, want)
			}
		})
	}
}

// TestTLSRouteBackendKeys: the Services a TLSRoute needs are its backendRefs' Services,
// in their namespaces; non-Service kinds are left out.
func TestTLSRouteBackendKeys(t *testing.T) {
	const route = `
metadata: {namespace: app, name: r}
spec:
  hostnames: [db.example.com]
  rules:
  - backendRefs:
    - {name: main, port: 443}
    - {name: db, namespace: other, port: 443}
    - {group: example.com, kind: Bucket, name: b}
`
	rt := tlsRouteKind.newRoute()
	if err := yaml.Unmarshal([]byte(route), rt); err != nil {
		t.Fatal(err)
	}
	want := []client.ObjectKey{{Namespace: "app", Name: "main"}, {Namespace: "other", Name: "db"}}
	if got := tlsRouteKind.backendKeys(rt); !slices.Equal(got, want) {
		t.Errorf("backendKeys = %v, want %v", got, want)
	}
}

// TestTCPRouteBackendKeys: the Services a TCPRoute needs are its backendRefs' Services,
// in their namespaces; non-Service kinds are left out.
func TestTCPRouteBackendKeys(t *testing.T) {
	const route = `
metadata: {namespace: app, name: r}
spec:
  rules:
  - backendRefs:
    - {name: main, port: 5432}
    - {name: db, namespace: other, port: 5432}
    - {group: example.com, kind: Bucket, name: b}
`
	rt := tcpRouteKind.newRoute()
	if err := yaml.Unmarshal([]byte(route), rt); err != nil {
		t.Fatal(err)
	}
	want := []client.ObjectKey{{Namespace: "app", Name: "main"}, {Namespace: "other", Name: "db"}}
	if got := tcpRouteKind.backendKeys(rt); !slices.Equal(got, want) {
		t.Errorf("backendKeys = %v, want %v", got, want)
	}
}

// TestUDPRouteBackendKeys: the Services a UDPRoute needs are its backendRefs' Services,
// in their namespaces; non-Service kinds are left out.
func TestUDPRouteBackendKeys(t *testing.T) {
	const route = `
metadata: {namespace: app, name: r}
spec:
  rules:
  - backendRefs:
    - {name: main, port: 53}
    - {name: db, namespace: other, port: 53}
    - {group: example.com, kind: Bucket, name: b}
`
	rt := udpRouteKind.newRoute()
	if err := yaml.Unmarshal([]byte(route), rt); err != nil {
		t.Fatal(err)
	}
	want := []client.ObjectKey{{Namespace: "app", Name: "main"}, {Namespace: "other", Name: "db"}}
	if got := udpRouteKind.backendKeys(rt); !slices.Equal(got, want) {
		t.Errorf("backendKeys = %v, want %v", got, want)
	}
}

// TestKeepForeignListenerConditions: conditions of types we do not write survive a
// retried status write; ours win for the types we write.
func TestKeepForeignListenerConditions(t *testing.T) {
	ours := []gwapiv1.ListenerStatus{{Name: "http", Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}}}}
	current := []gwapiv1.ListenerStatus{{Name: "http", Conditions: []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionFalse}, {Type: "example.com/Foreign", Status: metav1.ConditionTrue},
	}}}
	got := keepForeignListenerConditions(ours, current)
	if len(got) != 1 || len(got[0].Conditions) != 2 {
		t.Fatalf("got %+v, want Accepted=True and the foreign condition", got)
	}
	if c := got[0].Conditions[0]; c.Type != "Accepted" || c.Status != metav1.ConditionTrue {
		t.Errorf("ours changed: %+v", c)
	}
	if c := got[0].Conditions[1]; c.Type != "example.com/Foreign" {
		t.Errorf("foreign condition lost: %+v", got[0].Conditions)
	}
	if len(ours[0].Conditions) != 1 {
		t.Errorf("the input was modified: %+v", ours)
	}
	if keepForeignListenerConditions(nil, current) != nil {
		t.Error("nil listeners (status without listeners) must stay nil")
	}
}

// TestAutomaticConditionGoesWithAutomatic: a listener that no longer obtains automatic
// certificates loses its AutomaticCertificates condition, in the Gateway's status and
// in a ListenerSet's, and a retried write does not bring it back as a foreign one.
func TestAutomaticConditionGoesWithAutomatic(t *testing.T) {
	auto := metav1.Condition{Type: status.ListenerConditionAutomaticCertificates, Status: metav1.ConditionTrue, Reason: "Valid"}
	accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}
	programmed := metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed"}
	current := []gwapiv1.ListenerStatus{{Name: "https", Conditions: []metav1.Condition{accepted, auto}}}
	next := []gwapiv1.ListenerStatus{{Name: "https", Conditions: []metav1.Condition{accepted}}}
	if got := listenerStatuses(current, next, programmed); meta.FindStatusCondition(got[0].Conditions, auto.Type) != nil {
		t.Errorf("listenerStatuses kept %s: %+v", auto.Type, got[0].Conditions)
	}
	if got := keepForeignListenerConditions(next, current); meta.FindStatusCondition(got[0].Conditions, auto.Type) != nil {
		t.Errorf("keepForeignListenerConditions brought back %s: %+v", auto.Type, got[0].Conditions)
	}
	withAuto := []gwapiv1.ListenerStatus{{Name: "https", Conditions: []metav1.Condition{accepted, auto}}}
	if got := listenerStatuses(nil, withAuto, programmed); meta.FindStatusCondition(got[0].Conditions, auto.Type) == nil {
		t.Errorf("listenerStatuses dropped the translation's %s: %+v", auto.Type, got[0].Conditions)
	}
	set := gwapiv1.ListenerSetStatus{Listeners: []gwapiv1.ListenerEntryStatus{{Name: "https", Conditions: []metav1.Condition{accepted, auto}}}}
	want := translator.ListenerSetStatus{Accepted: accepted,
		Listeners: []gwapiv1.ListenerEntryStatus{{Name: "https", Conditions: []metav1.Condition{accepted}}}}
	if got := listenerSetStatus(set, want, programmed); meta.FindStatusCondition(got.Listeners[0].Conditions, auto.Type) != nil {
		t.Errorf("listenerSetStatus kept %s: %+v", auto.Type, got.Listeners[0].Conditions)
	}
}

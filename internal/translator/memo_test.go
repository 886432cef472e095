package translator_test

import (
	"bytes"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestMemoTranslatesAsWithout translates every golden case through the changes of
// memoSteps, one after the other, with a Memo held from step to step, and expects each
// output to be that of a translation without one.
func TestMemoTranslatesAsWithout(t *testing.T) {
	for _, name := range fixture.Cases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, "testdata", name)
			fixture.Stamp(&in)
			memo := translator.NewMemo()
			for _, step := range fixture.MemoSteps {
				step.Change(&in)
				want := marshalOutput(t, translator.Translate(in))
				in.Memo = memo
				got := marshalOutput(t, translator.Translate(in))
				in.Memo = nil
				if !bytes.Equal(got, want) {
					t.Fatalf("after %q, the translation with a Memo differs from the one without:\n%s\nwant:\n%s", step.Name, got, want)
				}
			}
		})
	}
}

// TestMemoChecksOnlyTheChangedRoute: with a Memo, a translation after a one-route
// change checks that route alone, one after a change to the Service every route names
// checks every route, and a new Service re-checks only the route that names it.
func TestMemoChecksOnlyTheChangedRoute(t *testing.T) {
	in := manyRoutes(1000)
	in.Memo = translator.NewMemo()
	checked, restore := translator.CountChecks()
	defer restore()
	translator.Translate(in)
	if n := checked(); n != 1000 {
		t.Fatalf("the first translation checked %d routes, want 1000", n)
	}
	in.HTTPRoutes[500].Spec.Hostnames = []gwapiv1.Hostname{"changed.example.com"}
	in.HTTPRoutes[500].Generation++
	translator.Translate(in)
	if n := checked(); n != 1 {
		t.Errorf("after one route changed, %d routes were checked, want 1", n)
	}
	in.Services[0].ResourceVersion = "2"
	translator.Translate(in)
	if n := checked(); n != 1000 {
		t.Errorf("after a Service changed, %d routes were checked, want 1000", n)
	}
	in.HTTPRoutes[7].Generation = 0
	translator.Translate(in)
	if n := checked(); n != 1 {
		t.Errorf("with one route without a generation, %d routes were checked, want 1", n)
	}
	in.HTTPRoutes[3].Spec.Rules[0].BackendRefs[0].Name = "new"
	in.HTTPRoutes[3].Generation++
	translator.Translate(in)
	checked()
	in.Services = append(in.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "default",
		UID: "new", ResourceVersion: "1"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}})
	out := translator.Translate(in)
	if n := checked(); n != 2 {
		t.Errorf("after the Service one route names was created, %d routes were checked, want 2 "+
			"(that route and the one without a generation)", n)
	}
	if got := backendOf(out, "r3.example.com"); got != "new.default.svc.cluster.local:8080" {
		t.Errorf("the route naming the new Service is served by %q", got)
	}
}

// manyRoutes is a Gateway with n HTTPRoutes, each on a hostname of its own with one
// backend, stamped as by the API server.
func manyRoutes(n int) translator.Input {
	gwNS := gwapiv1.Namespace("default")
	in := translator.Input{ControllerName: fixture.ControllerName, Gateway: &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "default"},
		Spec:       gwapiv1.GatewaySpec{Listeners: []gwapiv1.Listener{{Name: "http", Port: 80, Protocol: gwapiv1.HTTPProtocolType}}},
	}}
	in.Services = []corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "svc", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}}
	port := gwapiv1.PortNumber(8080)
	for i := range n {
		in.HTTPRoutes = append(in.HTTPRoutes, gwapiv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: "default"},
			Spec: gwapiv1.HTTPRouteSpec{
				CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
				Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("r%d.example.com", i))},
				Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
					BackendObjectReference: gwapiv1.BackendObjectReference{Name: "svc", Port: &port}}}}}},
			},
		})
	}
	fixture.Stamp(&in)
	return in
}

func marshalOutput(t *testing.T, out translator.Output) []byte {
	t.Helper()
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backendOf is the address of the first backend of the first route on host.
func backendOf(out translator.Output, host string) string {
	for _, s := range out.IR.HTTP {
		for _, l := range s.Listeners {
			for _, h := range l.Hosts {
				if h.Hostname == host && len(h.Routes) > 0 && len(h.Routes[0].Action.Backends) > 0 {
					return h.Routes[0].Action.Backends[0].Address
				}
			}
		}
	}
	return ""
}

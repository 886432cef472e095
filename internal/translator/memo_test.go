package translator_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// memoStep is one change between two translations of a Gateway: routes whose spec
// changes get a new generation, other objects a new resourceVersion, as from the API
// server. Changes to what checking does not read (namespaces, listeners, ListenerSets,
// Secrets, ConfigMaps) keep the Memo's checked rules: if checking read them, the
// translation with the Memo would differ from the one without.
type memoStep struct {
	name   string
	change func(in *translator.Input)
}

var memoSteps = []memoStep{
	{"unchanged", func(*translator.Input) {}},
	{"routes listed in reverse", func(in *translator.Input) {
		slices.Reverse(in.HTTPRoutes)
		slices.Reverse(in.GRPCRoutes)
		slices.Reverse(in.Services)
	}},
	{"first HTTPRoute takes the rules of the last", func(in *translator.Input) {
		if n := len(in.HTTPRoutes); n > 1 {
			in.HTTPRoutes[0].Spec.Rules = in.HTTPRoutes[n-1].Spec.Rules
			in.HTTPRoutes[0].Generation++
		}
	}},
	{"first GRPCRoute loses its rules", func(in *translator.Input) {
		if len(in.GRPCRoutes) > 0 {
			in.GRPCRoutes[0].Spec.Rules = nil
			in.GRPCRoutes[0].Generation++
		}
	}},
	{"last HTTPRoute deleted", func(in *translator.Input) {
		if n := len(in.HTTPRoutes); n > 0 {
			in.HTTPRoutes = in.HTTPRoutes[:n-1]
		}
	}},
	{"first Service's ports renumbered", func(in *translator.Input) {
		if len(in.Services) > 0 {
			s := &in.Services[0]
			s.Spec.Ports = slices.Clone(s.Spec.Ports)
			for i := range s.Spec.Ports {
				s.Spec.Ports[i].Port++
			}
			s.ResourceVersion += "x"
		}
	}},
	{"first Service deleted", func(in *translator.Input) { in.Services = drop(in.Services) }},
	{"first ReferenceGrant deleted", func(in *translator.Input) { in.ReferenceGrants = drop(in.ReferenceGrants) }},
	{"cluster domain changed", func(in *translator.Input) { in.ClusterDomain = "example.internal" }},
	{"first namespace deleted", func(in *translator.Input) { in.Namespaces = drop(in.Namespaces) }},
	{"first Secret deleted", func(in *translator.Input) { in.Secrets = drop(in.Secrets) }},
	{"first ConfigMap deleted", func(in *translator.Input) { in.ConfigMaps = drop(in.ConfigMaps) }},
	{"first ListenerSet deleted", func(in *translator.Input) { in.ListenerSets = drop(in.ListenerSets) }},
	{"first listener deleted", func(in *translator.Input) {
		gw := in.Gateway.DeepCopy()
		gw.Spec.Listeners = drop(gw.Spec.Listeners)
		gw.Generation++
		in.Gateway = gw
	}},
}

func drop[T any](s []T) []T {
	if len(s) == 0 {
		return s
	}
	return s[1:]
}

// TestMemoTranslatesAsWithout translates every golden case through the changes of
// memoSteps, one after the other, with a Memo held from step to step, and expects each
// output to be that of a translation without one.
func TestMemoTranslatesAsWithout(t *testing.T) {
	for _, name := range fixture.Cases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, "testdata", name)
			stamp(&in)
			memo := translator.NewMemo()
			for _, step := range memoSteps {
				step.change(&in)
				want := marshalOutput(t, translator.Translate(in))
				in.Memo = memo
				got := marshalOutput(t, translator.Translate(in))
				in.Memo = nil
				if !bytes.Equal(got, want) {
					t.Fatalf("after %q, the translation with a Memo differs from the one without:\n%s\nwant:\n%s", step.name, got, want)
				}
			}
		})
	}
}

// TestMemoChecksOnlyTheChangedRoute: with a Memo, a translation after a one-route
// change checks that route alone, and one after a Service change checks every route.
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
	stamp(&in)
	return in
}

// stamp gives every object of in the UID, generation and resourceVersion the API server
// would.
func stamp(in *translator.Input) {
	meta := func(kind string, o *metav1.ObjectMeta) {
		o.UID = types.UID(kind + "/" + o.Namespace + "/" + o.Name)
		o.Generation, o.ResourceVersion = 1, "1"
	}
	for i := range in.HTTPRoutes {
		meta("HTTPRoute", &in.HTTPRoutes[i].ObjectMeta)
	}
	for i := range in.GRPCRoutes {
		meta("GRPCRoute", &in.GRPCRoutes[i].ObjectMeta)
	}
	for i := range in.TLSRoutes {
		meta("TLSRoute", &in.TLSRoutes[i].ObjectMeta)
	}
	for i := range in.TCPRoutes {
		meta("TCPRoute", &in.TCPRoutes[i].ObjectMeta)
	}
	for i := range in.UDPRoutes {
		meta("UDPRoute", &in.UDPRoutes[i].ObjectMeta)
	}
	for i := range in.Services {
		meta("Service", &in.Services[i].ObjectMeta)
	}
	for i := range in.ReferenceGrants {
		meta("ReferenceGrant", &in.ReferenceGrants[i].ObjectMeta)
	}
}

func marshalOutput(t *testing.T, out translator.Output) []byte {
	t.Helper()
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

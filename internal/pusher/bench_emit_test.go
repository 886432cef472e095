package pusher_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// BenchmarkPushEmittedRouteChange translates and emits 10,000 HTTPRoutes (one rule, a
// path prefix, two backends each) over the given number of hostnames, changes one
// route's path, and reports the bytes a push of the change sends ("bytes/push") next to
// the bytes of the whole config ("full-bytes": every host table and the frame, as a pod the
// Pusher does not know is sent them). A host table holds the routes of one hostname, so
// the change costs about the whole config divided by the hostnames.
func BenchmarkPushEmittedRouteChange(b *testing.B) {
	for _, hosts := range []int{50, 10000} {
		b.Run(fmt.Sprintf("routes=10000/hosts=%d", hosts), func(b *testing.B) {
			before, after := emitRoutes(b, 10000, hosts, "/app"), emitRoutes(b, 10000, hosts, "/changed")
			p := newPKI(b)
			f := fakeFleet(b, p, newFakeCaddy())
			push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: time.Minute}})
			req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(b, p.serverName), Port: f.port}
			configs := [2]pusher.Config{}
			for i, r := range []emit.Result{before, after} {
				configs[i] = pusher.Config{JSON: r.JSON, Hash: r.Hash, ID: emit.ConfigID(r.Hash), Tables: r.Tables}
			}
			req.Config = configs[0]
			first := push.Push(context.Background(), req)
			if first.Programmed != 1 {
				b.Fatalf("first push: %+v", first)
			}
			var sent int
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				req.Config = configs[(i+1)%2]
				res := push.Push(context.Background(), req)
				if res.Programmed != 1 || res.Pushed != 1 {
					b.Fatalf("got %+v", res)
				}
				sent = res.Bytes
			}
			b.ReportMetric(float64(sent), "bytes/push")
			b.ReportMetric(float64(first.Bytes), "full-bytes")
			b.Logf("10000 routes on %d hostnames: a one-route change sent %d bytes; the whole config is %d bytes (%d of them the frame, %d host tables)",
				hosts, sent, first.Bytes, len(before.JSON), len(before.Tables))
		})
	}
}

// emitRoutes emits n HTTPRoutes on one HTTP listener, route i on hostname i%hosts, route
// 0's path prefix being first.
func emitRoutes(tb testing.TB, n, hosts int, first string) emit.Result {
	tb.Helper()
	all := gwapiv1.NamespacesFromAll
	in := translator.Input{ControllerName: fixture.ControllerName, Gateway: &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "default"},
		Spec: gwapiv1.GatewaySpec{Listeners: []gwapiv1.Listener{{Name: "http", Port: 80, Protocol: gwapiv1.HTTPProtocolType,
			AllowedRoutes: &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &all}}}}},
	}}
	for ns := range 10 {
		for s := range 2 {
			in.Services = append(in.Services, corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", s), Namespace: fmt.Sprintf("ns-%d", ns)},
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}},
			})
		}
	}
	gwNS := gwapiv1.Namespace("default")
	prefix, port := gwapiv1.PathMatchPathPrefix, gwapiv1.PortNumber(8080)
	for i := range n {
		path := fmt.Sprintf("/r%d", i)
		if i == 0 {
			path = first
		}
		backend := func(name string) gwapiv1.HTTPBackendRef {
			return gwapiv1.HTTPBackendRef{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(name), Port: &port}}}
		}
		in.HTTPRoutes = append(in.HTTPRoutes, gwapiv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("route-%d", i), Namespace: fmt.Sprintf("ns-%d", i%10)},
			Spec: gwapiv1.HTTPRouteSpec{
				CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}},
				Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(fmt.Sprintf("host-%d.example.com", i%hosts))},
				Rules: []gwapiv1.HTTPRouteRule{{
					Matches:     []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
					BackendRefs: []gwapiv1.HTTPBackendRef{backend("svc-0"), backend("svc-1")},
				}},
			},
		})
	}
	r, err := emit.Emit(translator.Translate(in).IR, emit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkPushEmittedToNewPods sends the emitted config of 10,000 HTTPRoutes to 3 pods
// the Pusher does not know and that cannot say which host tables they hold (restarted
// pods of an older build): each is sent every host table as a replacement, then the
// frame. One op is one push to all 3; the fake pods read nothing, so the figures are the
// Pusher's (and the TLS connections').
func BenchmarkPushEmittedToNewPods(b *testing.B) {
	const pods = 3
	for _, hosts := range []int{50, 10000} {
		b.Run(fmt.Sprintf("routes=10000/hosts=%d/pods=%d", hosts, pods), func(b *testing.B) {
			r := emitRoutes(b, 10000, hosts, "/app")
			cs := make([]*fakeCaddy, pods)
			for i := range cs {
				cs[i] = newFakeCaddy()
				cs[i].noState, cs[i].discard = true, true
			}
			p := newPKI(b)
			f := fakeFleet(b, p, cs...)
			push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: time.Minute}})
			req := pusher.Request{Gateway: testGateway, TLS: p.clientTLS(b, p.serverName), Port: f.port,
				Config: pusher.Config{JSON: r.JSON, Hash: r.Hash, ID: emit.ConfigID(r.Hash), Tables: r.Tables}}
			var sent int
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				req.Targets = f.targets(i, i, i) // restarted: unknown to the Pusher
				res := push.Push(context.Background(), req)
				if res.Programmed != pods || res.Pushed != pods {
					b.Fatalf("got %+v", res)
				}
				sent = res.Bytes
			}
			b.ReportMetric(float64(sent), "bytes/push")
		})
	}
}

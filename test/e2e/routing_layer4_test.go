//go:build e2e

package e2e

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// layer4Gateway has a TCP listener "tcp" on tcpListenerPort and a UDP listener "udp"
	// on udpListenerPort, both admitting routes from every namespace.
	layer4Gateway   = "layer4"
	tcpListenerPort = 7000
	udpListenerPort = 7053
	// echoPort is the Service port of the TCP and UDP echo backends.
	echoPort = 8080
)

// layer4Namespaces are the namespaces TestRoutingLayer4 creates besides cfg.Namespace().
type layer4Namespaces struct {
	// routes holds the TCPRoute; backends the Service it sends connections to, which it
	// may use only with a ReferenceGrant there.
	routes, backends string
}

// TestRoutingLayer4 proves TCPRoute and UDPRoute through one Gateway's Service address: a
// cross-namespace TCP backend admitted by a ReferenceGrant and refused without it, and UDP
// datagrams that round-trip through a UDP Service port.
func TestRoutingLayer4(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-layer4", 16)
	names := layer4Namespaces{routes: envconf.RandomName("e2e-l4routes", 16), backends: envconf.RandomName("e2e-l4backends", 16)}
	all := &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	gw := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: layer4Gateway, Namespace: ns},
		Spec: gwapiv1.GatewaySpec{GatewayClassName: gwapiv1.ObjectName(class), Listeners: []gwapiv1.Listener{
			{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: tcpListenerPort, AllowedRoutes: all},
			{Name: "udp", Protocol: gwapiv1.UDPProtocolType, Port: udpListenerPort, AllowedRoutes: all},
		}},
	}
	createAll(ctx, t, c,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.routes}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.backends}},
		onePodParams(ns, layer4Gateway), gatewayClass(class, ns, layer4Gateway), gw)
	ip := serviceIP(ctx, t, c, ns, layer4Gateway)
	testenv.Test(t, crossNamespaceTCP(names, joinPort(ip, tcpListenerPort)), udpRoundTrip(joinPort(ip, udpListenerPort)))
}

// crossNamespaceTCP sends a TCPRoute of the routes namespace to a TCP echo Service of the
// backends namespace: new connections through the Gateway reach it only while a
// ReferenceGrant there allows it.
func crossNamespaceTCP(names layer4Namespaces, addr string) features.Feature {
	route := &gwapiv1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "cross-tcp", Namespace: names.routes},
		Spec: gwapiv1.TCPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{layer4Parent("tcp")}},
			Rules:           []gwapiv1.TCPRouteRule{{BackendRefs: []gwapiv1.BackendRef{layer4BackendRef(names.backends, "tcp-echo")}}},
		},
	}
	grant := &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Name: "l4routes-tcp", Namespace: names.backends},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: "TCPRoute", Namespace: gwapiv1.Namespace(names.routes)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: ptr.To(gwapiv1.ObjectName("tcp-echo"))}},
		},
	}
	refused := func(ctx context.Context, t *testing.T, cfg *envconf.Config) {
		t.Helper()
		c := cfg.Client().Resources().GetControllerRuntimeClient()
		cond := parentCondition(ctx, t, c, &gwapiv1.TCPRoute{ObjectMeta: route.ObjectMeta}, cfg.Namespace(), layer4Gateway,
			string(gwapiv1.RouteConditionResolvedRefs), metav1.ConditionFalse, string(gwapiv1.RouteReasonRefNotPermitted))
		t.Logf("cross-tcp route: ResolvedRefs=%s %s: %s", cond.Status, cond.Reason, cond.Message)
		expectTCPClosed(ctx, t, addr)
	}
	return features.New("a cross-namespace TCPRoute backend gated by a ReferenceGrant").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, append(utils.TCPEchoBackend(names.backends, "tcp-echo"), route)...)
			t.Cleanup(func() { deleteAll(context.Background(), t, c, grant) })
			// The backend is up before any check: a closed connection is then the
			// Gateway's refusal, not a pod still starting.
			if err := utils.WaitDeploymentAvailable(ctx, c, names.backends, "tcp-echo", pollTimeout); err != nil {
				t.Fatal(err)
			}
			return ctx
		}).
		Assess("without a ReferenceGrant: RefNotPermitted and connections closed", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			refused(ctx, t, cfg)
			return ctx
		}).
		Assess("with a ReferenceGrant: bytes round-trip to the other namespace's backend", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			if err := c.Create(ctx, grant); err != nil {
				t.Fatal(err)
			}
			got := expectTCPEcho(ctx, t, addr)
			if got.Namespace != names.backends {
				t.Fatalf("answered from namespace %q, want %q", got.Namespace, names.backends)
			}
			t.Logf("echo through the TCP listener from pod %s/%s", got.Namespace, got.Pod)
			parentCondition(ctx, t, c, &gwapiv1.TCPRoute{ObjectMeta: route.ObjectMeta}, cfg.Namespace(), layer4Gateway,
				string(gwapiv1.RouteConditionResolvedRefs), metav1.ConditionTrue, string(gwapiv1.RouteReasonResolvedRefs))
			return ctx
		}).
		Assess("after the ReferenceGrant is deleted: RefNotPermitted and new connections closed again", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			deleteAll(ctx, t, cfg.Client().Resources().GetControllerRuntimeClient(), grant)
			refused(ctx, t, cfg)
			return ctx
		}).Feature()
}

// udpRoundTrip sends datagrams through a UDPRoute to a UDP echo Service.
func udpRoundTrip(addr string) features.Feature {
	route := &gwapiv1.UDPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "udp-echo"},
		Spec: gwapiv1.UDPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{layer4Parent("udp")}},
			Rules:           []gwapiv1.UDPRouteRule{{BackendRefs: []gwapiv1.BackendRef{layer4BackendRef("", "udp-echo")}}},
		},
	}
	return features.New("a UDPRoute").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			route.Namespace = cfg.Namespace()
			createAll(ctx, t, c, append(utils.UDPEchoBackend(cfg.Namespace(), "udp-echo"), route)...)
			return ctx
		}).
		Assess("the Gateway's Service exposes the UDP listener with protocol UDP", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			ports := servicePortProtocols(ctx, t, cfg.Client().Resources().GetControllerRuntimeClient(), cfg.Namespace(), layer4Gateway)
			for port, want := range map[int32]corev1.Protocol{udpListenerPort: corev1.ProtocolUDP, tcpListenerPort: corev1.ProtocolTCP} {
				if got, ok := ports[port]; !ok || got != want {
					t.Fatalf("Service port %d: protocol %q (present %t), want %s; ports %v", port, got, ok, want, ports)
				}
			}
			return ctx
		}).
		Assess("datagrams round-trip and the route is Accepted with ResolvedRefs", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			first := expectUDPEcho(ctx, t, addr)
			if first.Namespace != cfg.Namespace() {
				t.Fatalf("answered from namespace %q, want %q", first.Namespace, cfg.Namespace())
			}
			answered := udpExchanges(t, addr, udpDatagrams)
			t.Logf("%d of %d datagrams answered on one UDP session (first answer from pod %s)", answered, udpDatagrams, first.Pod)
			if answered != udpDatagrams {
				t.Fatalf("%d of %d datagrams answered, want all", answered, udpDatagrams)
			}
			for _, typ := range []gwapiv1.RouteConditionType{gwapiv1.RouteConditionAccepted, gwapiv1.RouteConditionResolvedRefs} {
				parentCondition(ctx, t, c, &gwapiv1.UDPRoute{ObjectMeta: route.ObjectMeta}, cfg.Namespace(), layer4Gateway,
					string(typ), metav1.ConditionTrue, string(typ))
			}
			return ctx
		}).Feature()
}

// layer4Parent is a parentRef to the listener section of the layer4 Gateway, which is in
// the test's namespace.
func layer4Parent(section string) gwapiv1.ParentReference {
	return gwapiv1.ParentReference{
		Name: layer4Gateway, Namespace: ptr.To(gwapiv1.Namespace(testenv.EnvConf().Namespace())),
		SectionName: ptr.To(gwapiv1.SectionName(section)),
	}
}

// layer4BackendRef names echoPort of Service name (in namespace ns when not empty).
func layer4BackendRef(ns, name string) gwapiv1.BackendRef {
	ref := gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(name), Port: ptr.To[gwapiv1.PortNumber](echoPort)}
	if ns != "" {
		ref.Namespace = ptr.To(gwapiv1.Namespace(ns))
	}
	return gwapiv1.BackendRef{BackendObjectReference: ref}
}

// servicePortProtocols are the protocols of the Gateway's Service ports by port number.
func servicePortProtocols(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) map[int32]corev1.Protocol {
	t.Helper()
	svc := gatewayService(ctx, t, c, ns, gateway)
	out := make(map[int32]corev1.Protocol, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		out[p.Port] = p.Protocol
	}
	return out
}

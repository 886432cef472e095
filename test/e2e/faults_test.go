//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	trafficInterval = 20 * time.Millisecond
	trafficLimit    = 4 * time.Minute
)

// catchAllRoute sends every request for host to backend.
func catchAllRoute(ns, name, gateway, host, backend string) *gwapiv1.HTTPRoute {
	return &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(gateway)}}},
			Hostnames:       []gwapiv1.Hostname{gwapiv1.Hostname(host)},
			Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
				BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(backend), Port: ptr.To[gwapiv1.PortNumber](8080)},
			}}}}},
		},
	}
}

// loadRequests counts the POST /load requests the Caddy containers of a Gateway in ns logged.
func loadRequests(ctx context.Context, t testing.TB, cfg *envconf.Config, ns, gateway string) int {
	t.Helper()
	n := 0
	for _, log := range caddyLogs(ctx, t, cfg, ns, gateway) {
		n += strings.Count(string(log), `"uri":"/load"`)
	}
	return n
}

// caddyLogs returns the Caddy container's log of each of the Gateway's pods, by pod name.
func caddyLogs(ctx context.Context, t testing.TB, cfg *envconf.Config, ns, gateway string) map[string][]byte {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	pods, err := fleetPods(ctx, c, ns, gateway)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string][]byte{}
	for _, p := range pods {
		rc, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: infra.CaddyContainer}).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		logs[p.Name] = b
	}
	return logs
}

func setReplicas(ctx context.Context, t *testing.T, c client.Client, ns, name string, n int32) {
	t.Helper()
	var cpc v1alpha1.CaddyProxyConfig
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cpc); err != nil {
		t.Fatal(err)
	}
	cpc.Spec.Workload = &v1alpha1.WorkloadSpec{Replicas: ptr.To(n)}
	if err := c.Update(ctx, &cpc); err != nil {
		t.Fatal(err)
	}
}

// allReady waits until the Gateway's Deployment has n Ready pods and is Programmed n/n.
func allReady(ctx context.Context, t *testing.T, c client.Client, ns, gateway string, n int32) {
	t.Helper()
	poll(ctx, t, fmt.Sprintf("%d Ready Caddy pods", n), func(ctx context.Context) error {
		var dep appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gateway).Workload}, &dep); err != nil {
			return err
		}
		if dep.Status.ReadyReplicas != n || dep.Status.Replicas != n {
			return fmt.Errorf("%d/%d ready", dep.Status.ReadyReplicas, dep.Status.Replicas)
		}
		return nil
	})
	programmed(ctx, t, c, ns, gateway, fmt.Sprintf("%d/%d pods programmed", n, n))
}

// TestFaultsUnderSteadyTraffic: HTTP requests, TCP conversations and UDP datagrams through
// one Gateway, each on a new connection, all answered while its fleet scales out, loses a
// pod and is rolled (terminating pods keep every listener accepting for the shutdown
// delay) and while the operator restarts.
func TestFaultsUnderSteadyTraffic(t *testing.T) {
	const gwName, host = "steady", "steady.example.com"
	class := envconf.RandomName("e2e-steady", 16)
	var addr, tcpAddr, udpAddr string
	// objs are what the test creates, deleted when it ends.
	var objs []client.Object
	// startTraffic is HTTP, TCP and UDP traffic through the Gateway's three listeners.
	startTraffic := func() mixedTraffic {
		return mixedTraffic{
			startHTTPTraffic(addr, host, "/", trafficInterval, trafficLimit),
			startTCPTraffic(tcpAddr, trafficInterval, trafficLimit),
			startUDPTraffic(udpAddr, trafficInterval, trafficLimit),
		}
	}
	f := features.New("steady HTTP, TCP and UDP traffic through scaling, pod loss, a rolling update and an operator restart").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs = append(utils.EchoBackend(ns, "steady-echo"), utils.TCPEchoBackend(ns, "steady-tcp")...)
			objs = append(objs, utils.UDPEchoBackend(ns, "steady-udp")...)
			objs = append(objs, onePodParams(ns, "steady"),
				gatewayClass(class, ns, "steady"), steadyGateway(ns, gwName, class),
				catchAllRoute(ns, "steady", gwName, host, "steady-echo"),
				&gwapiv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Name: "steady-tcp", Namespace: ns}, Spec: gwapiv1.TCPRouteSpec{
					CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{sectionRef(gwName, "tcp")}},
					Rules:           []gwapiv1.TCPRouteRule{{BackendRefs: []gwapiv1.BackendRef{layer4BackendRef("", "steady-tcp")}}},
				}},
				&gwapiv1.UDPRoute{ObjectMeta: metav1.ObjectMeta{Name: "steady-udp", Namespace: ns}, Spec: gwapiv1.UDPRouteSpec{
					CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{sectionRef(gwName, "udp")}},
					Rules:           []gwapiv1.UDPRouteRule{{BackendRefs: []gwapiv1.BackendRef{layer4BackendRef("", "steady-udp")}}},
				}})
			createAll(ctx, t, c, objs...)
			ip := serviceIP(ctx, t, c, ns, gwName)
			addr, tcpAddr, udpAddr = joinPort(ip, listenerPort), joinPort(ip, tcpListenerPort), joinPort(ip, udpListenerPort)
			expect(ctx, t, addr, host, "/", nil, 200, "backend=steady-echo")
			expectTCPEcho(ctx, t, tcpAddr)
			expectUDPEcho(ctx, t, udpAddr)
			return ctx
		}).
		Assess("scaling out adds pods only once they are configured", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			traffic := startTraffic()
			setReplicas(ctx, t, c, cfg.Namespace(), "steady", 3)
			allReady(ctx, t, c, cfg.Namespace(), gwName, 3)
			time.Sleep(3 * time.Second) // keep the traffic on the three pods for a while
			traffic.check(t, "scaling out 1→3")
			return ctx
		}).
		Assess("losing a pod loses no request and its replacement is configured before it is Ready", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			pods, err := fleetPods(ctx, c, cfg.Namespace(), gwName)
			if err != nil || len(pods) == 0 {
				t.Fatalf("no Caddy pods: %v", err)
			}
			traffic := startTraffic()
			if err := c.Delete(ctx, &pods[0]); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, "the deleted pod gone", func(ctx context.Context) error {
				var p corev1.Pod
				if err := c.Get(ctx, client.ObjectKeyFromObject(&pods[0]), &p); err == nil {
					return fmt.Errorf("pod %s still terminating", p.Name)
				}
				return nil
			})
			allReady(ctx, t, c, cfg.Namespace(), gwName, 3)
			traffic.check(t, "a pod's deletion")
			return ctx
		}).
		Assess("a rolling update of the fleet loses no request", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			before, err := fleetPods(ctx, c, ns, gwName)
			if err != nil {
				t.Fatal(err)
			}
			traffic := startTraffic()
			var cpc v1alpha1.CaddyProxyConfig
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "steady"}, &cpc); err != nil {
				t.Fatal(err)
			}
			cpc.Spec.Workload.Pod = &v1alpha1.PodSpec{Annotations: map[string]string{"example.com/revision": "2"}}
			if err := c.Update(ctx, &cpc); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, "every pod replaced by one of the new revision", func(ctx context.Context) error {
				pods, err := fleetPods(ctx, c, ns, gwName)
				if err != nil {
					return err
				}
				for _, p := range pods {
					if p.Annotations["example.com/revision"] != "2" || !podReady(&p) {
						cond, _ := gatewayCondition(ctx, c, ns, gwName, string(gwapiv1.GatewayConditionProgrammed))
						return fmt.Errorf("pod %s: revision %q, phase %s, Ready %v, containers %s; Gateway Programmed: %+v",
							p.Name, p.Annotations["example.com/revision"], p.Status.Phase, podReady(&p), containerStates(&p), cond)
					}
				}
				if len(pods) != 3 {
					return fmt.Errorf("%d pods", len(pods))
				}
				return nil
			})
			allReady(ctx, t, c, ns, gwName, 3)
			traffic.check(t, fmt.Sprintf("a rolling update of %d pods", len(before)))
			return ctx
		}).
		Assess("restarting the operator pushes nothing that is already running", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			before := loadRequests(ctx, t, cfg, cfg.Namespace(), gwName)
			traffic := startTraffic()
			ops, err := utils.OperatorPods(ctx, c)
			if err != nil || len(ops) == 0 {
				t.Fatalf("operator pods: %v", err)
			}
			old, oldName := ops[0].UID, ops[0].Name
			if err := c.Delete(ctx, &ops[0]); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, "a new operator pod Ready", func(ctx context.Context) error {
				ops, err := utils.OperatorPods(ctx, c)
				if err != nil {
					return err
				}
				for _, p := range ops {
					if p.UID != old && podReady(&p) {
						return nil
					}
				}
				return fmt.Errorf("no new Ready operator pod yet")
			})
			poll(ctx, t, "the new operator holds the leader lease", func(ctx context.Context) error {
				var lease coordinationv1.Lease
				if err := c.Get(ctx, client.ObjectKey{Namespace: utils.OperatorNamespace, Name: "caddy-gateway-operator.caddygateway.io"}, &lease); err != nil {
					return err
				}
				if id := ptr.Deref(lease.Spec.HolderIdentity, ""); strings.HasPrefix(id, oldName+"_") || id == "" {
					return fmt.Errorf("lease held by %q", id)
				}
				return nil
			})
			// The new leader reconciles every Gateway as it starts; give it time to do so.
			time.Sleep(5 * time.Second)
			programmed(ctx, t, c, cfg.Namespace(), gwName, "3/3 pods programmed")
			after := loadRequests(ctx, t, cfg, cfg.Namespace(), gwName)
			t.Logf("operator restart: POST /load logged %d before, %d after", before, after)
			traffic.check(t, "an operator restart")
			if after != before {
				t.Fatalf("the restarted operator pushed %d unchanged configurations again", after-before)
			}
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			// Routes and the Gateway first, backends last.
			last := slices.Clone(objs)
			slices.Reverse(last)
			deleteAll(ctx, t, cfg.Client().Resources().GetControllerRuntimeClient(), last...)
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// containerStates summarizes a pod's containers for failure messages.
func containerStates(p *corev1.Pod) string {
	var parts []string
	for _, cs := range p.Status.ContainerStatuses {
		state := "waiting"
		switch {
		case cs.State.Running != nil:
			state = "running"
		case cs.State.Terminated != nil:
			state = "terminated: " + cs.State.Terminated.Reason
		case cs.State.Waiting != nil:
			state = "waiting: " + cs.State.Waiting.Reason
		}
		parts = append(parts, fmt.Sprintf("%s %s ready=%v restarts=%d", cs.Name, state, cs.Ready, cs.RestartCount))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// steadyGateway is a Gateway with an HTTP, a TCP and a UDP listener, all routes of its namespace allowed.
func steadyGateway(ns, name, class string) *gwapiv1.Gateway {
	gw := httpGateway(ns, name, class)
	gw.Spec.Listeners = append(gw.Spec.Listeners,
		gwapiv1.Listener{Name: "tcp", Protocol: gwapiv1.TCPProtocolType, Port: tcpListenerPort},
		gwapiv1.Listener{Name: "udp", Protocol: gwapiv1.UDPProtocolType, Port: udpListenerPort})
	return gw
}

// sectionRef is a parentRef to the listener section of Gateway name of the route's namespace.
func sectionRef(name, section string) gwapiv1.ParentReference {
	return gwapiv1.ParentReference{Name: gwapiv1.ObjectName(name), SectionName: ptr.To(gwapiv1.SectionName(section))}
}

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestControlChannel breaks the operator's side of the admin channel: a NetworkPolicy
// that cuts the operator off from the Caddy pods, and an operator that is not running.
func TestControlChannel(t *testing.T) {
	const gwName, host, route = "channel", "channel.example.com", "channel"
	class := envconf.RandomName("e2e-channel", 16)
	var addr string
	f := features.New("the admin channel").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := append(utils.EchoBackend(ns, "channel-echo"),
				&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "channel", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
					Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](1)},
					Service:  &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
					ControlPlane: &v1alpha1.ControlPlaneSpec{Push: &v1alpha1.PushSpec{
						Timeout:        &metav1.Duration{Duration: 2 * time.Second},
						InitialBackoff: &metav1.Duration{Duration: 500 * time.Millisecond},
						MaxBackoff:     &metav1.Duration{Duration: 2 * time.Second},
					}},
				}},
				gatewayClass(class, ns, "channel"), httpGateway(ns, gwName, class),
				catchAllRoute(ns, route, gwName, host, "channel-echo"))
			createAll(ctx, t, c, objs...)
			addr = net.JoinHostPort(serviceIP(ctx, t, c, ns, gwName), fmt.Sprint(listenerPort))
			expect(ctx, t, addr, host, "/", nil, 200, "backend=channel-echo")
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			return ctx
		}).
		Assess("an unreachable admin channel turns Programmed False with the reason and recovers by itself", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			cut := cutOperatorFrom(ctx, t, c, ns, gwName)
			defer deleteAll(ctx, t, c, cut)

			// A change made while the channel is cut cannot reach Caddy. The policy takes a
			// moment to apply, so change the route until a push fails. (A push cut off
			// after Caddy took it, but before its answer came back, counts as failed too:
			// the operator cannot know; Caddy then serves that version, so try the next.)
			var version int
			var cond *metav1.Condition
			poll(ctx, t, "Programmed False after a change the operator cannot push", func(ctx context.Context) error {
				version++
				setRouteHeader(ctx, t, c, ns, route, fmt.Sprintf("v%d", version))
				deadline := time.Now().Add(8 * time.Second)
				for time.Now().Before(deadline) {
					var err error
					if cond, err = gatewayCondition(ctx, c, ns, gwName, string(gwapiv1.GatewayConditionProgrammed)); err != nil {
						return err
					}
					if cond != nil && cond.Status == metav1.ConditionFalse {
						if _, body, err := get(ctx, addr, host, "/", nil); err != nil || strings.Contains(body, fmt.Sprintf("X-Config: v%d\n", version)) {
							return fmt.Errorf("v%d is served although its push failed (the answer was lost): %v", version, err)
						}
						return nil
					}
					time.Sleep(250 * time.Millisecond)
				}
				return fmt.Errorf("Programmed is still %+v", cond)
			})
			t.Logf("while cut off: Programmed=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			if !strings.Contains(cond.Message, "0/1 pods programmed: pod ") {
				t.Fatalf("the message does not name the pod that was not programmed: %q", cond.Message)
			}
			pushFailedEvent(ctx, t, c, ns, gwName)

			// Caddy keeps serving the configuration it had.
			body := expect(ctx, t, addr, host, "/", nil, 200, "backend=channel-echo")
			if strings.Contains(body, fmt.Sprintf("X-Config: v%d\n", version)) {
				t.Fatalf("a configuration that could not be pushed is served: %q", body)
			}

			// Restoring the channel is enough: the operator's retries get through.
			deleteAll(ctx, t, c, cut)
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			expect(ctx, t, addr, host, "/", nil, 200, fmt.Sprintf("header X-Config: v%d", version))
			return ctx
		}).
		Assess("a Caddy pod that nobody configured is never Ready", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			old := readyPod(ctx, t, c, ns, gwName)
			scaleOperator(ctx, t, c, 0)
			defer scaleOperator(ctx, t, c, 1)
			if err := c.Delete(ctx, &old); err != nil {
				t.Fatal(err)
			}
			// Its replacement starts, its admin-proxy is Ready, Caddy runs: only the push is missing.
			var fresh corev1.Pod
			poll(ctx, t, "a replacement pod with every container started", func(ctx context.Context) error {
				pods, err := fleetPods(ctx, c, ns, gwName)
				if err != nil {
					return err
				}
				for _, p := range pods {
					if p.UID != old.UID && p.DeletionTimestamp.IsZero() && allStarted(&p) {
						fresh = p
						return nil
					}
				}
				return fmt.Errorf("no replacement with every container started among %d pods", len(pods))
			})
			// Its readiness probe runs every 2s; watch it for five periods.
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
				if err := c.Get(ctx, client.ObjectKeyFromObject(&fresh), &fresh); err != nil {
					t.Fatal(err)
				}
				if podReady(&fresh) {
					t.Fatalf("pod %s became Ready without a configuration", fresh.Name)
				}
			}
			scaleOperator(ctx, t, c, 1)
			poll(ctx, t, "the replacement Ready once the operator configured it", func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(&fresh), &fresh); err != nil {
					return err
				}
				if !podReady(&fresh) {
					return fmt.Errorf("pod %s not Ready", fresh.Name)
				}
				return nil
			})
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			expect(ctx, t, addr, host, "/", nil, 200, "backend=channel-echo")
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			deleteAll(ctx, t, c, httpGateway(cfg.Namespace(), gwName, class), &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}})
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// cutOperatorFrom creates a NetworkPolicy that lets the operator's pods reach anything but
// the Gateway's Caddy pods (the API server stays reachable).
func cutOperatorFrom(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) *networkingv1.NetworkPolicy {
	t.Helper()
	pods, err := fleetPods(ctx, c, ns, gateway)
	if err != nil || len(pods) == 0 {
		t.Fatalf("the Gateway's pods: %d, %v", len(pods), err)
	}
	var except []string
	for _, p := range pods {
		except = append(except, p.Status.PodIP+"/32")
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "cut-from-" + gateway, Namespace: utils.OperatorNamespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: utils.OperatorPodLabels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
				IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: except},
			}}}},
		},
	}
	createAll(ctx, t, c, np)
	return np
}

// setRouteHeader makes the route add the request header X-Config: value.
func setRouteHeader(ctx context.Context, t *testing.T, c client.Client, ns, name, value string) {
	t.Helper()
	var r gwapiv1.HTTPRoute
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &r); err != nil {
		t.Fatal(err)
	}
	r.Spec.Rules[0].Filters = []gwapiv1.HTTPRouteFilter{{
		Type:                  gwapiv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gwapiv1.HTTPHeaderFilter{Set: []gwapiv1.HTTPHeader{{Name: "X-Config", Value: value}}},
	}}
	if err := c.Update(ctx, &r); err != nil {
		t.Fatal(err)
	}
}

// pushFailedEvent waits for a PushFailed Event on the Gateway.
func pushFailedEvent(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) {
	t.Helper()
	poll(ctx, t, "a PushFailed Event on the Gateway", func(ctx context.Context) error {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == "Gateway" && e.Regarding.Name == gateway && e.Reason == "PushFailed" {
				t.Logf("Event %s: %s", e.Reason, e.Note)
				return nil
			}
		}
		return fmt.Errorf("none among %d Events", len(evs.Items))
	})
}

// scaleOperator sets the operator Deployment's replicas and waits for exactly n Ready pods.
func scaleOperator(ctx context.Context, t *testing.T, c client.Client, n int32) {
	t.Helper()
	var dep appsv1.Deployment
	key := client.ObjectKey{Namespace: utils.OperatorNamespace, Name: utils.OperatorDeployment}
	if err := c.Get(ctx, key, &dep); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Spec.Replicas = ptr.To(n)
	if err := c.Patch(ctx, &dep, patch); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, fmt.Sprintf("%d operator pods", n), func(ctx context.Context) error {
		pods, err := utils.OperatorPods(ctx, c)
		if err != nil {
			return err
		}
		ready := 0
		for _, p := range pods {
			if podReady(&p) {
				ready++
			}
		}
		if len(pods) != int(n) || ready != int(n) {
			return fmt.Errorf("%d pods, %d Ready", len(pods), ready)
		}
		return nil
	})
}

// allStarted says every container of the pod runs and the admin-proxy is Ready.
func allStarted(p *corev1.Pod) bool {
	if len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || (cs.Name == infra.AdminProxyContainer && !cs.Ready) {
			return false
		}
	}
	return true
}

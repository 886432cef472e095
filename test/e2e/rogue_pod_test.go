//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestRoguePod creates by hand, in the Gateway's namespace, a pod that imitates its Caddy
// pod: the real pod's spec (images, admin Secret mounted, labels) without its owner
// references and pod-template-hash. The operator must give it nothing: its Caddy never
// receives a config (it never turns Ready, its listener port accepts no connection, its
// admin API holds no config of ours, its log shows no POST /load), a Warning Event names
// it, and the real pod keeps taking and serving route changes. Then an operator restart
// shows that what the real pod runs is asked of Caddy, not pushed again.
func TestRoguePod(t *testing.T) {
	const gwName, host, route = "rogue", "rogue.example.com", "rogue"
	class := envconf.RandomName("e2e-rogue", 16)
	var addr string
	f := features.New("a pod that imitates the Gateway's Caddy pod").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := append(utils.EchoBackend(ns, "rogue-echo"),
				onePodParams(ns, "rogue"),
				gatewayClass(class, ns, "rogue"), httpGateway(ns, gwName, class),
				catchAllRoute(ns, route, gwName, host, "rogue-echo"))
			createAll(ctx, t, c, objs...)
			addr = net.JoinHostPort(serviceIP(ctx, t, c, ns, gwName), fmt.Sprint(listenerPort))
			expect(ctx, t, addr, host, "/", nil, 200, "backend=rogue-echo")
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			return ctx
		}).
		Assess("an imitation of the Caddy pod receives nothing and is reported; the real pod keeps serving", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			real := readyPod(ctx, t, c, ns, gwName)
			rogue := imitation(&real, "caddy-imitation")
			createAll(ctx, t, c, rogue)
			defer deleteAll(ctx, t, c, rogue)
			poll(ctx, t, "the imitation running with a ready admin-proxy", func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(rogue), rogue); err != nil {
					return err
				}
				if !allStarted(rogue) || rogue.Status.PodIP == "" {
					return fmt.Errorf("not started yet: %+v", rogue.Status.ContainerStatuses)
				}
				return nil
			})
			podRefusedEvent(ctx, t, c, ns, gwName, rogue.Name)

			// A route change is pushed while the imitation runs: the real pod serves it,
			// and the imitation is not counted among the pods to program.
			setRouteHeader(ctx, t, c, ns, route, "after-imitation")
			expect(ctx, t, addr, host, "/", nil, 200, "header X-Config: after-imitation")
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")

			// The imitation's readiness probe runs every 2s; watch it for five periods. Its
			// Caddy runs the bootstrap config only: no readiness server, no listener.
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
				if err := c.Get(ctx, client.ObjectKeyFromObject(rogue), rogue); err != nil {
					t.Fatal(err)
				}
				if podReady(rogue) {
					t.Fatalf("the imitation %s turned Ready: it was configured", rogue.Name)
				}
				if code, err := getListener(ctx, rogue.Status.PodIP); err == nil {
					t.Fatalf("the imitation's listener port answered %d: it was configured", code)
				}
			}
			op, err := newAdminClient(ctx, c, ns, gwName, true)
			if err != nil {
				t.Fatal(err)
			}
			code, body, err := op.do(ctx, rogue.Status.PodIP, adminPort, http.MethodGet, "/config/", nil)
			if err != nil || code != http.StatusOK || strings.Contains(body, "caddygateway-config-") || strings.Contains(body, `"apps"`) {
				t.Fatalf("the imitation's Caddy config: want the bootstrap config, got %d %.300q %v", code, body, err)
			}
			if n := logCount(ctx, t, cfg, rogue, `"uri":"/load"`); n != 0 {
				t.Fatalf("the imitation's Caddy logged %d POST /load", n)
			}
			return ctx
		}).
		Assess("after an operator restart the real pod is asked what it runs, not pushed again", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			real := readyPod(ctx, t, c, ns, gwName)
			loads, asks := logCount(ctx, t, cfg, &real, `"uri":"/load"`), logCount(ctx, t, cfg, &real, `"uri":"/id/caddygateway-config-`)
			scaleOperator(ctx, t, c, 0)
			scaleOperator(ctx, t, c, 1)
			poll(ctx, t, "the restarted operator asking the pod what it runs", func(ctx context.Context) error {
				if n := logCount(ctx, t, cfg, &real, `"uri":"/id/caddygateway-config-`); n <= asks {
					return fmt.Errorf("%d GET /id/ requests, as before the restart", n)
				}
				return nil
			})
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			if n := logCount(ctx, t, cfg, &real, `"uri":"/load"`); n != loads {
				t.Fatalf("the restarted operator pushed again: %d POST /load before, %d after", loads, n)
			}
			t.Logf("operator restart: %d GET /id/ before, POST /load stayed at %d", asks, loads)
			expect(ctx, t, addr, host, "/", nil, 200, "header X-Config: after-imitation")
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			deleteAll(ctx, t, c, httpGateway(cfg.Namespace(), gwName, class), &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}})
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// imitation is a pod created by hand from real's spec and labels, without its owner
// references and pod-template-hash, as anyone who may create pods in the namespace could.
func imitation(real *corev1.Pod, name string) *corev1.Pod {
	labels := map[string]string{}
	for k, v := range real.Labels {
		if k != appsv1.DefaultDeploymentUniqueLabelKey {
			labels[k] = v
		}
	}
	spec := real.Spec.DeepCopy()
	spec.NodeName = ""
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: real.Namespace, Name: name, Labels: labels}, Spec: *spec}
}

// podRefusedEvent waits for the PodRefused Warning Event on the Gateway naming the pod.
func podRefusedEvent(ctx context.Context, t *testing.T, c client.Client, ns, gateway, pod string) {
	t.Helper()
	poll(ctx, t, "a PodRefused Event on the Gateway naming "+pod, func(ctx context.Context) error {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == "Gateway" && e.Regarding.Name == gateway && e.Reason == "PodRefused" &&
				e.Type == corev1.EventTypeWarning && strings.HasPrefix(e.Note, "Pod "+pod+" ") {
				t.Logf("Event %s: %s", e.Reason, e.Note)
				return nil
			}
		}
		return fmt.Errorf("none among %d Events", len(evs.Items))
	})
}

// logCount counts the lines of the pod's caddy container log that contain s.
func logCount(ctx context.Context, t *testing.T, cfg *envconf.Config, p *corev1.Pod, s string) int {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: infra.CaddyContainer}).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/params"
)

const (
	listenerPort = 80
	adminPort    = params.DefaultAdminPort
	pollTimeout  = 3 * time.Minute
)

// poll retries check until it returns nil or the timeout passes, then fails with its last error.
func poll(ctx context.Context, t *testing.T, what string, check func(context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, pollTimeout, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
}

// onePodParams is a CaddyProxyConfig of one Caddy pod behind a ClusterIP Service, the
// smallest fleet a test can route through.
func onePodParams(ns, name string) *v1alpha1.CaddyProxyConfig {
	return &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
		Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](1)},
		Service:  &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
	}}
}

func httpGateway(ns, name, class string) *gwapiv1.Gateway {
	return &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwapiv1.GatewaySpec{
			GatewayClassName: gwapiv1.ObjectName(class),
			Listeners:        []gwapiv1.Listener{{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: listenerPort}},
		},
	}
}

// fleetPods returns the Caddy pods of a Gateway.
func fleetPods(ctx context.Context, c client.Client, ns, gateway string) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(infra.SelectorLabels(gateway)))
	return pods.Items, err
}

// runningPod waits for one Caddy pod whose admin-proxy is ready and returns it.
func runningPod(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	poll(ctx, t, "a Caddy pod with a ready admin-proxy", func(ctx context.Context) error {
		pods, err := fleetPods(ctx, c, ns, gateway)
		if err != nil {
			return err
		}
		for _, p := range pods {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name == infra.AdminProxyContainer && cs.Ready && p.Status.PodIP != "" {
					pod = p
					return nil
				}
			}
		}
		return fmt.Errorf("%d pods, none with a ready admin-proxy", len(pods))
	})
	return pod
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readyPod waits for a Ready Caddy pod of the Gateway: the operator has configured it.
func readyPod(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	poll(ctx, t, "a Ready Caddy pod", func(ctx context.Context) error {
		pods, err := fleetPods(ctx, c, ns, gateway)
		if err != nil {
			return err
		}
		for _, p := range pods {
			if podReady(&p) && p.DeletionTimestamp.IsZero() {
				pod = p
				return nil
			}
		}
		return fmt.Errorf("%d pods, none Ready", len(pods))
	})
	return pod
}

// programmed waits for the Gateway's Programmed=True condition with a message containing msg.
func programmed(ctx context.Context, t *testing.T, c client.Client, ns, gateway, msg string) {
	t.Helper()
	poll(ctx, t, "Gateway Programmed", func(ctx context.Context) error {
		cond, err := gatewayCondition(ctx, c, ns, gateway, string(gwapiv1.GatewayConditionProgrammed))
		if err != nil {
			return err
		}
		if cond == nil || cond.Status != metav1.ConditionTrue || !strings.Contains(cond.Message, msg) {
			return fmt.Errorf("Programmed: %+v", cond)
		}
		return nil
	})
}

// getListener sends GET / to the pod's listener port and returns the status code.
func getListener(ctx context.Context, ip string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, fmt.Sprint(listenerPort))+"/", nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

func gatewayCondition(ctx context.Context, c client.Client, ns, name, typ string) (*metav1.Condition, error) {
	var gw gwapiv1.Gateway
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &gw); err != nil {
		return nil, err
	}
	return meta.FindStatusCondition(gw.Status.Conditions, typ), nil
}

func TestProvisioning(t *testing.T) {
	const gwName = "fleet"
	class := envconf.RandomName("e2e-fleet", 16)
	f := features.New("a Gateway's Caddy fleet").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := []client.Object{
				&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "class", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
					Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](2)},
					Service:  &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
				}},
				&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "override", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
					Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](1)},
				}},
				gatewayClass(class, ns, "class"),
			}
			gw := httpGateway(ns, gwName, class)
			gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{ParametersRef: &gwapiv1.LocalParametersReference{
				Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig, Name: "override",
			}}
			for _, o := range append(objs, gw) {
				if err := c.Create(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			return ctx
		}).
		Assess("every object is created and the Gateway-level override wins", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns, name := cfg.Namespace(), infra.NamesFor(gwName).Workload
			for _, o := range []client.Object{&corev1.ServiceAccount{}, &corev1.Service{}, &appsv1.Deployment{}} {
				poll(ctx, t, fmt.Sprintf("%T %s", o, name), func(ctx context.Context) error {
					return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o)
				})
			}
			var dep appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &dep); err != nil {
				t.Fatal(err)
			}
			if got := ptr.Deref(dep.Spec.Replicas, 0); got != 1 {
				t.Fatalf("replicas: want 1 from the Gateway-level CaddyProxyConfig, got %d", got)
			}
			runningPod(ctx, t, c, ns, gwName)
			poll(ctx, t, "Gateway Accepted and AdminCertificates", func(ctx context.Context) error {
				for _, typ := range []string{string(gwapiv1.GatewayConditionAccepted), "caddygateway.io/AdminCertificates"} {
					cond, err := gatewayCondition(ctx, c, ns, gwName, typ)
					if err != nil {
						return err
					}
					if cond == nil || cond.Status != metav1.ConditionTrue {
						return fmt.Errorf("%s: %+v", typ, cond)
					}
				}
				return nil
			})
			return ctx
		}).
		Assess("the admin-proxy refuses clients without the operator's certificate", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			pod := runningPod(ctx, t, c, cfg.Namespace(), gwName)
			none, err := newAdminClient(ctx, c, cfg.Namespace(), gwName, false)
			if err != nil {
				t.Fatal(err)
			}
			if code, _, err := none.do(ctx, pod.Status.PodIP, adminPort, http.MethodGet, "/config/", nil); err == nil || !strings.Contains(err.Error(), "certificate required") {
				t.Fatalf("no client certificate: want a TLS alert 'certificate required', got status %d, error %v", code, err)
			}
			foreign, err := none.withForeignCert()
			if err != nil {
				t.Fatal(err)
			}
			if code, _, err := foreign.do(ctx, pod.Status.PodIP, adminPort, http.MethodGet, "/config/", nil); err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
				t.Fatalf("certificate of another CA: want a TLS alert 'unknown certificate authority', got status %d, error %v", code, err)
			}
			op, err := newAdminClient(ctx, c, cfg.Namespace(), gwName, true)
			if err != nil {
				t.Fatal(err)
			}
			if code, body, err := op.do(ctx, pod.Status.PodIP, adminPort, http.MethodPost, "/stop", nil); err != nil || code != http.StatusForbidden {
				t.Fatalf("POST /stop with the operator's certificate: want 403, got %d %q %v", code, body, err)
			}
			return ctx
		}).
		Assess("the operator configures the pod, which turns Ready, and the Gateway is Programmed", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			pod := readyPod(ctx, t, c, ns, gwName)
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			if code, err := getListener(ctx, pod.Status.PodIP); err != nil || code != http.StatusNotFound {
				t.Fatalf("GET / on the listener port without routes: want 404 from Caddy, got %d %v", code, err)
			}
			op, err := newAdminClient(ctx, c, ns, gwName, true)
			if err != nil {
				t.Fatal(err)
			}
			code, body, err := op.do(ctx, pod.Status.PodIP, adminPort, http.MethodGet, "/config/admin", nil)
			if err != nil || code != http.StatusOK || !strings.Contains(body, "unix//run/caddy/admin.sock") {
				t.Fatalf("GET /config/admin with the operator's certificate: want 200 naming the unix socket, got %d %q %v", code, body, err)
			}
			return ctx
		}).
		Assess("the NetworkPolicy refuses the admin port to other pods", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			pod := runningPod(ctx, t, c, ns, gwName)
			var svc corev1.Service
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &svc); err != nil {
				t.Fatal(err)
			}
			podAdmin := net.JoinHostPort(pod.Status.PodIP, fmt.Sprint(adminPort))
			podListener := net.JoinHostPort(pod.Status.PodIP, fmt.Sprint(listenerPort))
			svcAdmin := net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(adminPort))
			svcListener := net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(listenerPort))
			out := runProbe(ctx, t, cfg, podAdmin, podListener, svcAdmin, svcListener)
			t.Logf("probe from an unrelated pod:\n%s", out)
			for addr, want := range map[string]string{podAdmin: "closed", svcAdmin: "closed", podListener: "open", svcListener: "open"} {
				if !strings.Contains(out, addr+" "+want) {
					t.Errorf("from an unrelated pod, %s: want %s; probe said:\n%s", addr, want, out)
				}
			}
			return ctx
		}).
		Assess("Service type and annotations follow the CaddyProxyConfig", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			var cpc v1alpha1.CaddyProxyConfig
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "class"}, &cpc); err != nil {
				t.Fatal(err)
			}
			cpc.Spec.Service = &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeNodePort), Annotations: map[string]string{"example.com/lb": "internal"}}
			if err := c.Update(ctx, &cpc); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, "Service NodePort with the annotation", func(ctx context.Context) error {
				var svc corev1.Service
				if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &svc); err != nil {
					return err
				}
				if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Annotations["example.com/lb"] != "internal" {
					return fmt.Errorf("type %s annotations %v", svc.Spec.Type, svc.Annotations)
				}
				return nil
			})
			return ctx
		}).
		Assess("an invalid CaddyProxyConfig keeps the last good fleet serving", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			var dep appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &dep); err != nil {
				t.Fatal(err)
			}
			var cpc v1alpha1.CaddyProxyConfig
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "override"}, &cpc); err != nil {
				t.Fatal(err)
			}
			cpc.Spec.ControlPlane = &v1alpha1.ControlPlaneSpec{AdminPort: ptr.To(params.DefaultMetricsPort)}
			if err := c.Update(ctx, &cpc); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, "Gateway InvalidParameters", func(ctx context.Context) error {
				cond, err := gatewayCondition(ctx, c, ns, gwName, string(gwapiv1.GatewayConditionAccepted))
				if err != nil {
					return err
				}
				if cond == nil || cond.Reason != string(gwapiv1.GatewayReasonInvalidParameters) || !strings.Contains(cond.Message, "spec.caddy.metrics.port") {
					return fmt.Errorf("Accepted: %+v", cond)
				}
				return nil
			})
			var after appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKeyFromObject(&dep), &after); err != nil {
				t.Fatal(err)
			}
			if after.Generation != dep.Generation {
				t.Fatalf("the Deployment changed (generation %d → %d) although its parameters are invalid", dep.Generation, after.Generation)
			}
			pod := runningPod(ctx, t, c, ns, gwName)
			if code, err := getListener(ctx, pod.Status.PodIP); err != nil || code != http.StatusNotFound || !podReady(&pod) {
				t.Fatalf("the last good Caddy stopped serving: ready=%v %d %v", podReady(&pod), code, err)
			}
			return ctx
		}).
		Assess("deleting the Gateway removes its fleet", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			if err := c.Delete(ctx, httpGateway(ns, gwName, class)); err != nil {
				t.Fatal(err)
			}
			name := infra.NamesFor(gwName).Workload
			poll(ctx, t, "fleet deleted", func(ctx context.Context) error {
				for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.ServiceAccount{}} {
					if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); err == nil {
						return fmt.Errorf("%T %s still exists", o, name)
					} else if client.IgnoreNotFound(err) != nil {
						return err
					}
				}
				return nil
			})
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			deleteAll(ctx, t, c, &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}})
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

func errNotReady(ready, desired int32) error {
	return fmt.Errorf("%d of %d pods ready", ready, desired)
}

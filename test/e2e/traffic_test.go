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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
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

// get sends GET url with the Host header host and extra headers through the Gateway.
func get(ctx context.Context, addr, host, path string, headers map[string]string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// expect polls GET until it answers code with a body containing want.
func expect(ctx context.Context, t *testing.T, addr, host, path string, headers map[string]string, code int, want string) string {
	t.Helper()
	var body string
	poll(ctx, t, fmt.Sprintf("GET %s%s answers %d", host, path, code), func(ctx context.Context) error {
		got, b, err := get(ctx, addr, host, path, headers)
		if err != nil {
			return err
		}
		body = b
		if got != code || !strings.Contains(b, want) {
			return fmt.Errorf("got %d %q", got, b)
		}
		return nil
	})
	return body
}

func TestHTTPRouting(t *testing.T) {
	const gwName = "web"
	class := envconf.RandomName("e2e-web", 16)
	var addr string
	f := features.New("HTTP traffic through the Gateway").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := append(utils.EchoBackend(ns, "echo-a"),
				&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
					Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
				}},
				gatewayClass(class, ns, "web"), httpGateway(ns, gwName, class),
				&gwapiv1.HTTPRoute{
					ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
					Spec: gwapiv1.HTTPRouteSpec{
						CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwName}}},
						Hostnames:       []gwapiv1.Hostname{"app.example.com"},
						Rules: []gwapiv1.HTTPRouteRule{{
							Matches: []gwapiv1.HTTPRouteMatch{{
								Path:    &gwapiv1.HTTPPathMatch{Type: ptr.To(gwapiv1.PathMatchPathPrefix), Value: ptr.To("/app")},
								Headers: []gwapiv1.HTTPHeaderMatch{{Name: "X-Tenant", Value: "blue"}},
							}},
							Filters: []gwapiv1.HTTPRouteFilter{{
								Type:                  gwapiv1.HTTPRouteFilterRequestHeaderModifier,
								RequestHeaderModifier: &gwapiv1.HTTPHeaderFilter{Add: []gwapiv1.HTTPHeader{{Name: "X-Added", Value: "by-gateway"}}},
							}},
							BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
								Name: "echo-a", Port: ptr.To[gwapiv1.PortNumber](8080),
							}}}},
						}},
					},
				})
			for _, o := range objs {
				if err := c.Create(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			var svc corev1.Service
			poll(ctx, t, "the Gateway's Service", func(ctx context.Context) error {
				return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &svc)
			})
			addr = net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(listenerPort))
			return ctx
		}).
		Assess("a matching request reaches the backend with the added header", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			body := expect(ctx, t, addr, "app.example.com", "/app/page", map[string]string{"X-Tenant": "blue"}, http.StatusOK, "backend=echo-a")
			if !strings.Contains(body, "header X-Added: by-gateway") {
				t.Fatalf("the backend did not see the header the filter adds:\n%s", body)
			}
			return ctx
		}).
		Assess("requests that do not match answer 404", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			for _, tc := range []struct {
				host, path string
				headers    map[string]string
			}{
				{"app.example.com", "/app/page", map[string]string{"X-Tenant": "red"}},
				{"app.example.com", "/application", map[string]string{"X-Tenant": "blue"}},
				{"other.example.com", "/app/page", map[string]string{"X-Tenant": "blue"}},
			} {
				if code, body, err := get(ctx, addr, tc.host, tc.path, tc.headers); err != nil || code != http.StatusNotFound {
					t.Errorf("GET %s%s %v: want 404, got %d %q %v", tc.host, tc.path, tc.headers, code, body, err)
				}
			}
			return ctx
		}).
		Assess("the route is Accepted with ResolvedRefs", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			poll(ctx, t, "HTTPRoute status", func(ctx context.Context) error {
				var rt gwapiv1.HTTPRoute
				if err := c.Get(ctx, client.ObjectKey{Namespace: cfg.Namespace(), Name: "app"}, &rt); err != nil {
					return err
				}
				if len(rt.Status.Parents) != 1 {
					return fmt.Errorf("parents: %+v", rt.Status.Parents)
				}
				for _, typ := range []string{"Accepted", "ResolvedRefs"} {
					if !meta.IsStatusConditionTrue(rt.Status.Parents[0].Conditions, typ) {
						return fmt.Errorf("%s not True: %+v", typ, rt.Status.Parents[0].Conditions)
					}
				}
				return nil
			})
			return ctx
		}).
		Assess("a route change propagates without restarting anything", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			pods, err := fleetPods(ctx, c, cfg.Namespace(), gwName)
			if err != nil || len(pods) != 1 {
				t.Fatalf("want one Caddy pod, got %d (%v)", len(pods), err)
			}
			var rt gwapiv1.HTTPRoute
			if err := c.Get(ctx, client.ObjectKey{Namespace: cfg.Namespace(), Name: "app"}, &rt); err != nil {
				t.Fatal(err)
			}
			rt.Spec.Rules[0].Matches[0].Path.Value = ptr.To("/v2")
			if err := c.Update(ctx, &rt); err != nil {
				t.Fatal(err)
			}
			expect(ctx, t, addr, "app.example.com", "/v2/page", map[string]string{"X-Tenant": "blue"}, http.StatusOK, "backend=echo-a")
			after, err := fleetPods(ctx, c, cfg.Namespace(), gwName)
			if err != nil || len(after) != 1 || after[0].UID != pods[0].UID {
				t.Fatalf("the Caddy pod was replaced: before %s, after %+v (%v)", pods[0].UID, after, err)
			}
			for _, cs := range after[0].Status.ContainerStatuses {
				if cs.RestartCount != 0 {
					t.Fatalf("container %s restarted %d times", cs.Name, cs.RestartCount)
				}
			}
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			deleteAll(ctx, t, c, httpGateway(cfg.Namespace(), gwName, class), &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}})
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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

// sharedGateway has one HTTP listener "teams" on 80 admitting routes from namespaces
// labelled team=blue only.
const sharedGateway = "shared"

// routeNamespaces are the namespaces TestRoutingNamespaces creates besides cfg.Namespace().
type routeNamespaces struct {
	// blue carries team=blue: the listener admits its routes.
	blue string
	// red has no team label: the listener refuses its routes.
	red string
	// backends holds a Service that routes of blue may use only with a ReferenceGrant.
	backends string
}

// TestRoutingNamespaces proves allowedRoutes namespace selection and cross-namespace
// backends gated by a ReferenceGrant, through one Gateway's Service address.
func TestRoutingNamespaces(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-shared", 16)
	names := routeNamespaces{
		blue: envconf.RandomName("e2e-blue", 16), red: envconf.RandomName("e2e-red", 16),
		backends: envconf.RandomName("e2e-backends", 16),
	}
	gw := httpGateway(ns, sharedGateway, class)
	gw.Spec.Listeners[0].Name = "teams"
	gw.Spec.Listeners[0].AllowedRoutes = &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{
		From:     ptr.To(gwapiv1.NamespacesFromSelector),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "blue"}},
	}}
	createAll(ctx, t, c,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.blue, Labels: map[string]string{"team": "blue"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.red}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.backends}},
		&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: sharedGateway, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
			Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
		}},
		gatewayClass(class, ns, sharedGateway), gw)
	addr := joinPort(serviceIP(ctx, t, c, ns, sharedGateway), listenerPort)
	testenv.Test(t, namespaceSelector(names, addr), crossNamespaceBackend(names, addr))
}

// namespaceSelector attaches one route from the labelled namespace and one from the other.
func namespaceSelector(names routeNamespaces, addr string) features.Feature {
	return features.New("allowedRoutes namespace selector").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			gwNS := cfg.Namespace()
			objs := append(utils.EchoBackend(names.blue, "echo-blue"),
				httpRoute(names.blue, "blue", gwNS, sharedGateway, "", []string{"blue.example.com"}, toBackends(backendRef("", "echo-blue", 1))),
				// The red route is valid in every other respect: its Service exists.
				utils.EchoBackend(names.red, "echo-red")[1],
				httpRoute(names.red, "red", gwNS, sharedGateway, "", []string{"red.example.com"}, toBackends(backendRef("", "echo-red", 1))))
			createAll(ctx, t, c, objs...)
			return ctx
		}).
		Assess("the route of the labelled namespace is admitted and answers", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			expectVia(ctx, t, plainClient, "http", addr, "blue.example.com", "/", http.StatusOK, "backend=echo-blue")
			routeParentCondition(ctx, t, c, client.ObjectKey{Namespace: names.blue, Name: "blue"}, cfg.Namespace(), sharedGateway,
				string(gwapiv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwapiv1.RouteReasonAccepted))
			return ctx
		}).
		Assess("the route of the other namespace is NotAllowedByListeners and not served", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			cond := routeParentCondition(ctx, t, c, client.ObjectKey{Namespace: names.red, Name: "red"}, cfg.Namespace(), sharedGateway,
				string(gwapiv1.RouteConditionAccepted), metav1.ConditionFalse, string(gwapiv1.RouteReasonNotAllowedByListeners))
			t.Logf("red route: Accepted=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			// The status is written after the push, so the running config already omits it.
			if r, err := send(ctx, plainClient, "http", addr, "red.example.com", "/"); err != nil || r.code != http.StatusNotFound {
				t.Fatalf("GET red.example.com: want 404, got %d %q %v", r.code, r.body, err)
			}
			return ctx
		}).Feature()
}

// crossNamespaceBackend sends a route of the blue namespace to a Service of the backends
// namespace, which answers only once a ReferenceGrant there allows it.
func crossNamespaceBackend(names routeNamespaces, addr string) features.Feature {
	const host = "cross.example.com"
	route := client.ObjectKey{Namespace: names.blue, Name: "cross"}
	grant := &gwapiv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Name: "blue-routes", Namespace: names.backends},
		Spec: gwapiv1.ReferenceGrantSpec{
			From: []gwapiv1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: "HTTPRoute", Namespace: gwapiv1.Namespace(names.blue)}},
			To:   []gwapiv1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: ptr.To(gwapiv1.ObjectName("echo-elsewhere"))}},
		},
	}
	var before []string
	return features.New("a cross-namespace backend gated by a ReferenceGrant").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			objs := append(utils.EchoBackend(names.backends, "echo-elsewhere"),
				httpRoute(route.Namespace, route.Name, cfg.Namespace(), sharedGateway, "", []string{host},
					toBackends(backendRef(names.backends, "echo-elsewhere", 1))))
			createAll(ctx, t, c, objs...)
			t.Cleanup(func() { deleteAll(context.Background(), t, c, grant) })
			return ctx
		}).
		Assess("without a ReferenceGrant: 500 and RefNotPermitted", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			cond := routeParentCondition(ctx, t, c, route, cfg.Namespace(), sharedGateway,
				string(gwapiv1.RouteConditionResolvedRefs), metav1.ConditionFalse, string(gwapiv1.RouteReasonRefNotPermitted))
			t.Logf("cross route: ResolvedRefs=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			expectVia(ctx, t, plainClient, "http", addr, host, "/", http.StatusInternalServerError, "")
			// The backend itself is up: the 500 is the Gateway's refusal, not a dead pod.
			if err := utils.WaitDeploymentAvailable(ctx, c, names.backends, "echo-elsewhere", pollTimeout); err != nil {
				t.Fatal(err)
			}
			if r, err := send(ctx, plainClient, "http", addr, host, "/"); err != nil || r.code != http.StatusInternalServerError {
				t.Fatalf("with the backend available and no grant: want 500, got %d %q %v", r.code, r.body, err)
			}
			before = fleetAndOperator(ctx, t, c, cfg.Namespace())
			return ctx
		}).
		Assess("a ReferenceGrant turns it into 200 without restarting anything", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			if err := c.Create(ctx, grant); err != nil {
				t.Fatal(err)
			}
			expectVia(ctx, t, plainClient, "http", addr, host, "/granted", http.StatusOK, "backend=echo-elsewhere path=/granted")
			routeParentCondition(ctx, t, c, route, cfg.Namespace(), sharedGateway,
				string(gwapiv1.RouteConditionResolvedRefs), metav1.ConditionTrue, string(gwapiv1.RouteReasonResolvedRefs))
			if after := fleetAndOperator(ctx, t, c, cfg.Namespace()); !slices.Equal(before, after) {
				t.Fatalf("pods were replaced or restarted:\nbefore %v\nafter  %v", before, after)
			}
			return ctx
		}).Feature()
}

// fleetAndOperator identifies the shared Gateway's Caddy pods and the operator's pods.
func fleetAndOperator(ctx context.Context, t *testing.T, c client.Client, ns string) []string {
	t.Helper()
	var op appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: utils.OperatorNamespace, Name: utils.OperatorDeployment}, &op); err != nil {
		t.Fatal(err)
	}
	out := podIdentities(ctx, t, c, ns, infra.SelectorLabels(sharedGateway))
	if len(out) == 0 {
		t.Fatal("the shared Gateway has no Caddy pods")
	}
	return append(out, podIdentities(ctx, t, c, utils.OperatorNamespace, op.Spec.Selector.MatchLabels)...)
}

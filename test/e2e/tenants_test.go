//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/test/utils"
)

// tenantsGateway is one Gateway admitting routes from every namespace, as platform teams
// share one.
const tenantsGateway = "tenants"

// tenants are the namespaces of TestSharedGatewayTenants.
type tenants struct {
	// good holds well-formed routes; poison a route Caddy would reject if it were emitted;
	// churn a route rewritten every second.
	good, poison, churn string
	addr                string
}

// TestSharedGatewayTenants proves that one namespace's route cannot stop the rest of a
// shared Gateway from being programmed, and that weighted HTTPRoute and GRPCRoute splits
// keep their weights while other tenants' routes change every second.
func TestSharedGatewayTenants(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-tenants", 16)
	tn := tenants{
		good: envconf.RandomName("e2e-good", 16), poison: envconf.RandomName("e2e-poison", 16),
		churn: envconf.RandomName("e2e-churn", 16),
	}
	gw := httpGateway(ns, tenantsGateway, class)
	gw.Spec.Listeners[0].AllowedRoutes = &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	createAll(ctx, t, c,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.good}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.poison}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.churn}},
		&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: tenantsGateway, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
			Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
		}},
		gatewayClass(class, ns, tenantsGateway), gw)
	createAll(ctx, t, c, append(utils.EchoBackend(tn.good, "echo-main"), utils.EchoBackend(tn.good, "echo-canary")...)...)
	createAll(ctx, t, c, append(utils.GRPCEchoBackend(tn.good, grpcMain), utils.GRPCEchoBackend(tn.good, grpcCanary)...)...)
	createAll(ctx, t, c, utils.EchoBackend(tn.poison, "echo-poison")...)
	tn.addr = joinPort(serviceIP(ctx, t, c, ns, tenantsGateway), listenerPort)
	testenv.Test(t, poisonRoute(tn), splitUnderChurn(tn), grpcSplitUnderChurn(tn), metricsScraped(tn))
}

// poisonRoute attaches a route whose path pattern compiles alone but not as Caddy
// matches it (`\Q` quotes to the end of the wrapped pattern), next to other tenants' routes.
func poisonRoute(tn tenants) features.Feature {
	poison := client.ObjectKey{Namespace: tn.poison, Name: "poison"}
	return features.New("a poison route of one namespace").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, httpRoute(tn.good, "before", cfg.Namespace(), tenantsGateway, "", []string{"before.example.com"},
				toBackends(backendRef("", "echo-main", 1))))
			expectVia(ctx, t, plainClient, "http", tn.addr, "before.example.com", "/", http.StatusOK, "backend=echo-main")
			rule := toBackends(backendRef("", "echo-poison", 1))
			rule.Matches = []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{
				Type: ptr.To(gwapiv1.PathMatchRegularExpression), Value: ptr.To(`/b\Q`),
			}}}
			createAll(ctx, t, c, httpRoute(tn.poison, poison.Name, cfg.Namespace(), tenantsGateway, "", []string{"poison.example.com"}, rule))
			return ctx
		}).
		Assess("the poison route is refused with a message naming its field", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			cond := routeParentCondition(ctx, t, c, poison, cfg.Namespace(), tenantsGateway,
				string(gwapiv1.RouteConditionAccepted), metav1.ConditionFalse, string(gwapiv1.RouteReasonUnsupportedValue))
			if !strings.Contains(cond.Message, "path") {
				t.Fatalf("the condition does not name the path: %q", cond.Message)
			}
			t.Logf("poison route: Accepted=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			return ctx
		}).
		Assess("other tenants' routes keep serving and new ones are programmed", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, httpRoute(tn.good, "after", cfg.Namespace(), tenantsGateway, "", []string{"after.example.com"},
				toBackends(backendRef("", "echo-canary", 1))))
			expectVia(ctx, t, plainClient, "http", tn.addr, "after.example.com", "/new", http.StatusOK, "backend=echo-canary path=/new")
			expectVia(ctx, t, plainClient, "http", tn.addr, "before.example.com", "/", http.StatusOK, "backend=echo-main")
			programmed(ctx, t, c, cfg.Namespace(), tenantsGateway, "")
			return ctx
		}).Feature()
}

// splitUnderChurn sends a 95/5 split while a route of another namespace is rewritten
// every second, and counts the canary's share in every window of 100 requests.
func splitUnderChurn(tn tenants) features.Feature {
	const host = "split.example.com"
	pick := func(ctx context.Context) (bool, error) {
		r, err := send(ctx, plainClient, "http", tn.addr, host, "/")
		if err != nil {
			return false, fmt.Errorf("%w: %w", errDropped, err)
		}
		if r.code != http.StatusOK {
			return false, fmt.Errorf("answered %d %q", r.code, r.body)
		}
		return strings.Contains(r.body, "backend=echo-canary"), nil
	}
	return features.New("a 95/5 split while other routes change every second").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, httpRoute(tn.good, "split", cfg.Namespace(), tenantsGateway, "", []string{host},
				toBackends(backendRef("", "echo-main", 95), backendRef("", "echo-canary", 5))))
			for _, name := range []string{"echo-main", "echo-canary"} {
				if err := utils.WaitDeploymentAvailable(ctx, c, tn.good, name, pollTimeout); err != nil {
					t.Fatal(err)
				}
			}
			expectVia(ctx, t, plainClient, "http", tn.addr, host, "/", http.StatusOK, "backend=echo-")
			return ctx
		}).
		Assess("every 100 consecutive requests give the canary 5±2", splitRun{canaryPercent: 5, pick: pick}.assess(tn)).
		Feature()
}

// splitRun is a weighted split of a main and a canary backend, measured under churn.
type splitRun struct {
	// canaryPercent is the canary's weight in percent of the split's total.
	canaryPercent int
	// pick sends one request through the split and says whether the canary answered it;
	// an error wrapping errDropped is a connection a reload dropped, which is tried again.
	pick func(context.Context) (canary bool, err error)
}

// errDropped marks a request whose connection failed: a Caddy reload can drop a
// connection that arrives while it swaps listeners.
var errDropped = errors.New("connection dropped")

// churnRequests is how many requests a splitRun sends, churnWindow the length of the
// windows it counts in, and churnGap the least time between two requests, so that the
// requests span several rewrites of the churn route.
const (
	churnRequests = 400
	churnWindow   = 100
	churnGap      = 15 * time.Millisecond
)

// assess sends churnRequests requests while a route of tn.churn is rewritten every
// second, and checks that every churnWindow consecutive ones give the canary its share ±2.
func (s splitRun) assess(tn tenants) features.Func {
	return func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
		c := cfg.Client().Resources().GetControllerRuntimeClient()
		stop, churned := churnRoutes(ctx, t, c, tn.churn, cfg.Namespace())
		pace := time.NewTicker(churnGap)
		defer pace.Stop()
		canary := make([]bool, 0, churnRequests)
		retried := make([]int, 0, churnRequests) // the dropped connections before each answer
		for len(canary) < churnRequests {
			<-pace.C
			got, retries, err := sendRetrying(ctx, s.pick)
			if err != nil {
				stop()
				t.Fatalf("request %d during churn: %v", len(canary), err)
			}
			canary, retried = append(canary, got), append(retried, retries)
		}
		stop()
		counts, drops := windowCounts(canary, retried, churnWindow)
		t.Logf("%d requests while the churn route changed %d times; %d connections dropped and retried",
			churnRequests, *churned, sum(retried))
		if *churned < 3 {
			t.Fatalf("the churn route changed %d times: the test did not run under churn", *churned)
		}
		want := s.canaryPercent * churnWindow / 100
		t.Logf("canary requests per window of %d: min %d, max %d", churnWindow, slices.Min(counts), slices.Max(counts))
		// A dropped request took its pick of the split with it, which the retry does not
		// give back: each one a window holds widens its tolerance by one.
		for i, n := range counts {
			if slack := 2 + drops[i]; n < want-slack || n > want+slack {
				t.Fatalf("canary requests %d..%d: %d with %d connections dropped and retried, want %d±%d",
					i, i+churnWindow-1, n, drops[i], want, slack)
			}
		}
		return ctx
	}
}

// sendRetrying calls pick, and again, up to three tries, while it fails with errDropped;
// retries is how many times it tried again.
func sendRetrying(ctx context.Context, pick func(context.Context) (bool, error)) (canary bool, retries int, err error) {
	for try := 1; ; try++ {
		canary, err := pick(ctx)
		if !errors.Is(err, errDropped) || try == 3 {
			return canary, try - 1, err
		}
	}
}

// churnRoutes rewrites a route in ns every second until stop is called; churned counts
// the rewrites.
func churnRoutes(ctx context.Context, t *testing.T, c client.Client, ns, gwNS string) (stop func(), churned *int) {
	t.Helper()
	route := httpRoute(ns, "churn", gwNS, tenantsGateway, "", []string{"churn.example.com"}, toBackends(backendRef("", "echo-churn", 1)))
	createAll(ctx, t, c, append(utils.EchoBackend(ns, "echo-churn"), route)...)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	churned = new(int)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var rt gwapiv1.HTTPRoute
			if err := c.Get(ctx, client.ObjectKeyFromObject(route), &rt); err != nil {
				continue
			}
			rt.Spec.Rules[0].Matches = []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{
				Type: ptr.To(gwapiv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/v%d", i)),
			}}}
			if c.Update(ctx, &rt) == nil {
				*churned++
			}
		}
	}()
	return func() { cancel(); wg.Wait() }, churned
}

// windowCounts returns, for every n consecutive requests of seq (true: the canary
// answered), how many the canary answered and how many connections were dropped and
// retried on their way (retried: per request).
func windowCounts(seq []bool, retried []int, n int) (canary, dropped []int) {
	for i := 0; i+n <= len(seq); i++ {
		c := 0
		for _, b := range seq[i : i+n] {
			if b {
				c++
			}
		}
		canary, dropped = append(canary, c), append(dropped, sum(retried[i:i+n]))
	}
	return canary, dropped
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// metricsScraped reads Prometheus metrics from each Caddy pod's metrics port, as a
// scraper in the cluster would, after the requests of the features before.
func metricsScraped(tn tenants) features.Feature {
	return features.New("metrics on the metrics port").
		Assess("each Caddy pod serves Prometheus text with request counters", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			// Routes of the features before are gone with them; an unrouted request counts too.
			expectVia(ctx, t, plainClient, "http", tn.addr, "unrouted.example.com", "/", http.StatusNotFound, "")
			var pods corev1.PodList
			if err := c.List(ctx, &pods, client.InNamespace(cfg.Namespace()), client.MatchingLabels(infra.SelectorLabels(tenantsGateway))); err != nil {
				t.Fatal(err)
			}
			if len(pods.Items) == 0 {
				t.Fatal("the Gateway has no Caddy pods")
			}
			for _, p := range pods.Items {
				addr := joinPort(p.Status.PodIP, int(params.DefaultMetricsPort))
				r := expectVia(ctx, t, plainClient, "http", addr, addr, "/metrics", http.StatusOK, "caddy_http_request")
				if !strings.Contains(r.body, "# TYPE ") {
					t.Fatalf("pod %s: /metrics is not in Prometheus text format: %.200q", p.Name, r.body)
				}
			}
			return ctx
		}).Feature()
}

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// BenchmarkPropagation measures, in the real cluster, the time from creating an
// HTTPRoute to its first 200 through Caddy, with 100 and with 1,000 routes already
// attached, and counts answers other than 200/404 on existing routes meanwhile:
//
//	make probe-propagation
//
// It also times the burst of base routes, created as fast as the API server takes them
// once the Gateway serves: until the last is served, and until every one's status shows
// it Accepted; and counts the configuration loads Caddy logged and the API requests the
// operator made meanwhile, and reports the resident memory of Caddy and the operator and
// the API server's CPU time per route, of the burst and of the new routes timed: on a
// small machine, the API server's work for a route's create and status writes bounds
// both.
// PROBE_ROUTES (e.g. "100") limits the sizes; PROBE_SAMPLES sets the number of new routes
// timed (20: at 10,000 routes their p50 varies by ±10 ms from run to run, so compare with
// 200 there); PROBE_PODS sets the number of Caddy pods (1);
// PROBE_SHUTDOWN_DELAY sets the Gateway's caddy.shutdownDelay and PROBE_MIN_INTERVAL its
// controlPlane.push.minInterval, to compare reload and coalescing behaviour.
func BenchmarkPropagation(b *testing.B) {
	sizes := []int{100, 1000}
	if v, err := strconv.Atoi(os.Getenv("PROBE_ROUTES")); err == nil {
		sizes = []int{v}
	}
	samples := 20
	if v, err := strconv.Atoi(os.Getenv("PROBE_SAMPLES")); err == nil && v > 0 {
		samples = v
	}
	for _, base := range sizes {
		b.Run(fmt.Sprintf("attached=%d", base), func(b *testing.B) {
			for range b.N {
				propagation(b, base, samples)
			}
		})
	}
}

// propagation attaches base routes, then adds samples routes one by one, timing each.
func propagation(b *testing.B, base, samples int) {
	ctx := context.Background()
	cfg := testenv.EnvConf()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := envconf.RandomName("probe", 12)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	defer deleteNamespace(ctx, b, c, ns)
	unflow, err := operatorFlows(ctx, c, ns)
	if err != nil {
		b.Fatal(err)
	}
	defer unflow()
	class := envconf.RandomName("probe", 12)
	objs := append(utils.EchoBackend(ns, "echo"),
		&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
			Workload: probeWorkload(b),
			Service:  &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
			Caddy:    probeRuntime(b),
			ControlPlane: &v1alpha1.ControlPlaneSpec{Push: &v1alpha1.PushSpec{
				MinInterval: probeDuration(b, "PROBE_MIN_INTERVAL"),
			}},
		}},
		gatewayClass(class, ns, "probe"), httpGateway(ns, "probe", class))
	defer deleteClass(ctx, c, ns, class)
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	host := func(i int) string { return fmt.Sprintf("r%d.probe.example.com", i) }
	var svc corev1.Service
	for start := time.Now(); ; time.Sleep(time.Second) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor("probe").Workload}, &svc)
		if err == nil {
			break
		}
		if time.Since(start) > time.Minute {
			b.Fatal(err)
		}
	}
	addr := net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(listenerPort))
	// The burst meets a serving Gateway: one route served first proves the fleet and the
	// backend ready.
	if err := c.Create(ctx, catchAllRoute(ns, "warm", "probe", "warm.probe.example.com", "echo")); err != nil {
		b.Fatal(err)
	}
	if _, err := firstOK(ctx, addr, "warm.probe.example.com", 5*time.Minute); err != nil {
		b.Fatalf("the Gateway never served its first route: %v", err)
	}
	if _, err := allAccepted(ctx, cfg.Client().RESTConfig(), c.Scheme(), ns, "probe", controllerName, 1, time.Minute); err != nil {
		b.Fatal(err)
	}
	requestsBefore, err := apiServerCounts(ctx, cfg.Client().RESTConfig(), ns)
	if err != nil {
		b.Fatal(err)
	}
	// The base routes arrive as a burst: a client without the default 5 QPS limit, from
	// several goroutines.
	rc := rest.CopyConfig(cfg.Client().RESTConfig())
	rc.QPS, rc.Burst = 500, 1000
	burst, err := client.New(rc, client.Options{Scheme: c.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	attach := time.Now()
	if err := createRoutes(ctx, burst, ns, base, host); err != nil {
		b.Fatal(err)
	}
	created := time.Since(attach)
	statuses := make(chan error, 1)
	var acceptedAt time.Time
	go func() {
		var err error
		acceptedAt, err = allAccepted(ctx, cfg.Client().RESTConfig(), c.Scheme(), ns, "probe", controllerName, base+1, 5*time.Minute)
		statuses <- err
	}()
	if _, err := firstOK(ctx, addr, host(base-1), 5*time.Minute); err != nil {
		b.Fatalf("the %d base routes never answered: %v", base, err)
	}
	attached := time.Since(attach)
	if err := <-statuses; err != nil {
		b.Fatal(err)
	}
	allStatuses := acceptedAt.Sub(attach)
	requestsAfter, err := apiServerCounts(ctx, cfg.Client().RESTConfig(), ns)
	if err != nil {
		b.Fatal(err)
	}
	requests := requestsAfter.since(requestsBefore)
	perRoute := float64(requests["operator"]) / float64(base)
	burstCPU := float64(requests[apiServerCPU]) / float64(base)
	delete(requests, apiServerCPU)
	loads := loadRequests(ctx, b, cfg, ns, "probe")
	bad := watchExisting(addr, host(0))
	samplesBefore, err := apiServerCounts(ctx, cfg.Client().RESTConfig(), ns)
	if err != nil {
		b.Fatal(err)
	}
	var lat, creates []time.Duration
	var timed []timedRoute
	for i := base; i < base+samples; i++ {
		r := timedRoute{name: fmt.Sprintf("r%d", i), start: time.Now()}
		// The unthrottled client: at 5 requests a second the client's own wait would be timed.
		if err := burst.Create(ctx, catchAllRoute(ns, r.name, "probe", host(i), "echo")); err != nil {
			b.Fatal(err)
		}
		r.created = time.Now() // the API server's answer to the create
		if _, err := firstOK(ctx, addr, host(i), time.Minute); err != nil {
			b.Fatal(err)
		}
		r.served = time.Now() // creation to first 200
		timed = append(timed, r)
		creates, lat = append(creates, r.created.Sub(r.start)), append(lat, r.latency())
	}
	others, what := bad.stop()
	samplesAfter, err := apiServerCounts(ctx, cfg.Client().RESTConfig(), ns)
	if err != nil {
		b.Fatal(err)
	}
	sampleCPU := float64(samplesAfter.since(samplesBefore)[apiServerCPU]) / float64(samples)
	// The route table pushes Caddy logged, read once for the burst and the new routes.
	pushes := tablePushes(ctx, b, cfg, ns, "probe")
	burstPushes := pushesBetween(pushes, attach, attach.Add(attached))
	splitSlowest(b, pushes, timed, 5)
	caddyRSS, operatorRSS := memory(ctx, b, cfg, ns)
	slices.Sort(lat)
	slices.Sort(creates)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
	b.ReportMetric(float64(creates[len(creates)/2].Microseconds())/1000, "create-p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	b.ReportMetric(float64(others), "non-200/404")
	b.ReportMetric(float64(loads), "loads-attaching")
	b.ReportMetric(float64(burstPushes), "pushes-attaching")
	b.ReportMetric(float64(attached.Milliseconds()), "burst-served-ms")
	b.ReportMetric(float64(allStatuses.Milliseconds()), "burst-accepted-ms")
	b.ReportMetric(perRoute, "api-requests/route")
	b.ReportMetric(burstCPU, "api-server-cpu-ms/burst-route")
	b.ReportMetric(sampleCPU, "api-server-cpu-ms/new-route")
	b.ReportMetric(caddyRSS, "caddy-rss-MiB")
	b.ReportMetric(operatorRSS, "operator-rss-MiB")
	b.Logf("attached=%d: %d new routes, p50 %v, p99 %v, answers other than 200/404 on an existing route: %d %v",
		base, samples, p50, p99, others, what)
	b.Logf("attached=%d: the API server answered the creates in p50 %v, p99 %v (part of the times above)",
		base, creates[len(creates)/2], creates[len(creates)*99/100])
	b.Logf("attached=%d: creating the base routes took %v; serving the last took %v, %d configuration loads and %d route table pushes",
		base, created.Round(time.Millisecond), attached.Round(time.Millisecond), loads, burstPushes)
	b.Logf("attached=%d: every base route Accepted by the Gateway after %v; the operator made %d API requests meanwhile, %.2f per route; status requests: %v",
		base, allStatuses.Round(time.Millisecond), requests["operator"], perRoute, requests)
	b.Logf("attached=%d: the API server used %.1f ms of CPU per route of the burst and %.1f ms per new route timed (its create, its status, the Gateway's status)",
		base, burstCPU, sampleCPU)
}

// memory is the largest resident memory of the Gateway's Caddy containers and of the
// operator, in MiB.
func memory(ctx context.Context, b *testing.B, cfg *envconf.Config, ns string) (caddy, operator float64) {
	most := func(ns, prefix, container string) float64 {
		rss, err := containerRSS(ctx, cfg, ns, prefix, container)
		if err != nil {
			b.Fatal(err)
		}
		if len(rss) == 0 {
			b.Fatalf("no memory figures of container %s in pods %s* of %s", container, prefix, ns)
		}
		return float64(slices.Max(slices.Collect(maps.Values(rss)))) / (1 << 20)
	}
	caddy = most(ns, infra.NamesFor("probe").Workload, infra.CaddyContainer)
	operator = most(utils.OperatorNamespace, utils.OperatorDeployment, "manager")
	b.Logf("resident memory: Caddy %.0f MiB, operator %.0f MiB", caddy, operator)
	return caddy, operator
}

// probeWorkload applies PROBE_PODS, the number of Caddy pods (one when unset).
func probeWorkload(b *testing.B) *v1alpha1.WorkloadSpec {
	v := os.Getenv("PROBE_PODS")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("PROBE_PODS=%q: want a positive number", v)
	}
	return &v1alpha1.WorkloadSpec{Replicas: ptr.To(int32(n))}
}

// probeRuntime applies PROBE_SHUTDOWN_DELAY, when set.
func probeRuntime(b *testing.B) *v1alpha1.CaddyRuntimeSpec {
	if d := probeDuration(b, "PROBE_SHUTDOWN_DELAY"); d != nil {
		return &v1alpha1.CaddyRuntimeSpec{ShutdownDelay: d}
	}
	return nil
}

// probeDuration reads a duration from the environment variable key; nil when unset.
func probeDuration(b *testing.B, key string) *metav1.Duration {
	v := os.Getenv(key)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", key, err)
	}
	return &metav1.Duration{Duration: d}
}

// pollInterval is how often firstOK asks: a route served between two polls is seen up to
// this much late, half of it on average, and that is part of every time measured.
const pollInterval = 2 * time.Millisecond

// firstOK polls host every pollInterval until it answers 200 and returns how long that
// took.
func firstOK(ctx context.Context, addr, host string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < limit {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		req.Host = host
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(pollInterval)
	}
	return 0, fmt.Errorf("%s did not answer 200 within %v", host, limit)
}

// existingWatch requests an existing route continuously and counts answers other than
// 200 and 404 (a reload must never fail a request).
type existingWatch struct {
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	outcomes map[string]int // answers other than 200/404, by status or error text
}

func watchExisting(addr, host string) *existingWatch {
	w := &existingWatch{done: make(chan struct{}), outcomes: map[string]int{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		hc := &http.Client{Timeout: 5 * time.Second}
		for {
			select {
			case <-w.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			req.Host = host
			resp, err := hc.Do(req)
			outcome := ""
			switch {
			case err != nil:
				outcome = err.Error()
			case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound:
				outcome = resp.Status
			}
			if err == nil {
				_ = resp.Body.Close()
			}
			if outcome != "" {
				w.mu.Lock()
				w.outcomes[outcome]++
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// stop ends the watch and returns the number of bad answers and what they were.
func (w *existingWatch) stop() (int, map[string]int) {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.outcomes {
		n += c
	}
	return n, w.outcomes
}

// deleteNamespace deletes the probe's namespace and waits, up to ten minutes, until it
// is gone: the deletion of thousands of routes keeps the API server and the operator
// busy for a while, and a run that follows must not measure it.
func deleteNamespace(ctx context.Context, b *testing.B, c client.Client, ns string) {
	start := time.Now()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := c.Delete(ctx, obj); err != nil {
		b.Logf("deleting namespace %s: %v", ns, err)
		return
	}
	for time.Since(start) < 10*time.Minute {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
			b.Logf("namespace %s was gone %v after its deletion", ns, time.Since(start).Round(time.Second))
			return
		}
		time.Sleep(time.Second)
	}
	b.Logf("namespace %s was still there 10 minutes after its deletion", ns)
}

// deleteClass deletes the probe's Gateway and its class, and waits (up to a minute) for
// the class to go: its gateway-exists finalizer is the operator's to remove, which it no
// longer can once the suite has removed the operator.
func deleteClass(ctx context.Context, c client.Client, ns, class string) {
	_ = c.Delete(ctx, &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}})
	gc := &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}}
	_ = c.Delete(ctx, gc)
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(500 * time.Millisecond) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(gc), gc); apierrors.IsNotFound(err) {
			return
		}
	}
}

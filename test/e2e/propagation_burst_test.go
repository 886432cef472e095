//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// burstWorkers is how many goroutines create the base routes of the propagation probe:
// one alone is held to one request per round trip.
const burstWorkers = 16

// createRoutes creates the routes r0 … r<n-1> of ns for the probe's Gateway from
// burstWorkers goroutines, and returns the first error.
func createRoutes(ctx context.Context, c client.Client, ns string, n int, host func(int) string) error {
	next := make(chan int)
	errs := make(chan error, burstWorkers)
	for range burstWorkers {
		go func() {
			var first error
			for i := range next {
				if first == nil {
					first = c.Create(ctx, catchAllRoute(ns, fmt.Sprintf("r%d", i), "probe", host(i), "echo"))
				}
			}
			errs <- first
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	var first error
	for range burstWorkers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// operatorFlowSchema is the API server's priority-and-fairness flow schema of service
// accounts outside kube-system: in the probe's cluster, only the operator's requests.
const operatorFlowSchema = "service-accounts"

// operatorRequests returns how many requests the API server has dispatched for the
// operator so far: its apiserver_flowcontrol_dispatched_requests_total of
// operatorFlowSchema.
func operatorRequests(ctx context.Context, rc *rest.Config) (int, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return 0, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	n, found := 0.0, false
	s := bufio.NewScanner(bytes.NewReader(raw))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "apiserver_flowcontrol_dispatched_requests_total{") ||
			!strings.Contains(line, `flow_schema="`+operatorFlowSchema+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		n, found = n+v, true
	}
	if !found {
		return 0, fmt.Errorf("the API server reports no requests of flow schema %q", operatorFlowSchema)
	}
	return int(n), nil
}

// allAccepted polls the routes of ns every 100 ms until n of them have an entry for the
// Gateway gateway, set by controller, with Accepted True, and returns when that was.
func allAccepted(ctx context.Context, c client.Client, ns, gateway string, controller gwapiv1.GatewayController, n int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	got := 0
	for time.Now().Before(deadline) {
		var routes gwapiv1.HTTPRouteList
		if err := c.List(ctx, &routes, client.InNamespace(ns)); err != nil {
			return time.Time{}, err
		}
		got = 0
		for _, r := range routes.Items {
			if accepted(r.Status.Parents, gateway, controller) {
				got++
			}
		}
		if got >= n {
			return time.Now(), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("%d of %d routes Accepted by Gateway %s within %v", got, n, gateway, limit)
}

// accepted reports whether parents hold controller's entry for gateway with Accepted True.
func accepted(parents []gwapiv1.RouteParentStatus, gateway string, controller gwapiv1.GatewayController) bool {
	for _, p := range parents {
		if p.ControllerName == controller && string(p.ParentRef.Name) == gateway &&
			meta.IsStatusConditionTrue(p.Conditions, string(gwapiv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

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

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

// burstWorkers is how many goroutines create the base routes of the propagation probe:
// one alone is held to one request per round trip.
const burstWorkers = 64

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

// operatorFlows puts the operator's requests into a flow schema of their own, at the
// priority level service accounts get anyway, so that the API server counts them apart
// (apiServerCounts). The returned function deletes it.
func operatorFlows(ctx context.Context, c client.Client, name string) (func(), error) {
	fs := &flowcontrolv1.FlowSchema{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload-low"},
			MatchingPrecedence:         8000, // before the service-accounts schema's 9000
			DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects: []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindServiceAccount, ServiceAccount: &flowcontrolv1.ServiceAccountSubject{
					Namespace: utils.OperatorNamespace, Name: operatorServiceAccount,
				}}},
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{
					Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
					ClusterScope: true, Namespaces: []string{"*"},
				}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		},
	}
	if err := c.Create(ctx, fs); err != nil {
		return nil, fmt.Errorf("creating FlowSchema %s: %w", name, err)
	}
	return func() { _ = c.Delete(context.Background(), fs) }, nil
}

// operatorServiceAccount is the operator's ServiceAccount (config/default).
const operatorServiceAccount = "caddy-gateway-controller-manager"

// apiCounts are the API server's request counters of interest to the probe, by name.
type apiCounts map[string]int

// apiServerCounts reads the API server's metrics: how many requests it dispatched in
// the flow schema flows (operatorFlows), under "operator", how many requests of the
// Gateway API's resources it answered, by verb, resource, subresource and code (only the
// operator writes statuses), and the CPU time it has used, in milliseconds, under
// apiServerCPU.
func apiServerCounts(ctx context.Context, rc *rest.Config, flows string) (apiCounts, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	out := apiCounts{}
	s := bufio.NewScanner(bytes.NewReader(raw))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		key := ""
		switch {
		case strings.HasPrefix(line, "apiserver_flowcontrol_dispatched_requests_total{") &&
			strings.Contains(line, `flow_schema="`+flows+`"`):
			key = "operator"
		case strings.HasPrefix(line, "process_cpu_seconds_total "):
			key = apiServerCPU
		case strings.HasPrefix(line, "apiserver_request_total{") && strings.Contains(line, `group="gateway.networking.k8s.io"`) &&
			strings.Contains(line, `subresource="status"`):
			key = label(line, "verb") + " " + label(line, "resource") + "/status " + label(line, "code")
		default:
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		if key == apiServerCPU {
			v *= 1000
		}
		out[key] += int(v)
	}
	return out, nil
}

// apiServerCPU is the key of the API server's CPU time in apiCounts, in milliseconds.
const apiServerCPU = "api-server-cpu-ms"

// label returns the value of the label name of a metric line.
func label(line, name string) string {
	_, v, ok := strings.Cut(line, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// since returns what grew from before to c, by name.
func (c apiCounts) since(before apiCounts) apiCounts {
	out := apiCounts{}
	for k, v := range c {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// allAccepted watches the routes of ns until n of them have an entry for the Gateway
// gateway, set by controller, with Accepted True, and returns when that was. It watches
// rather than lists again and again: listing a thousand routes ten times a second would
// load the API server whose answers the burst measures, and see each status late.
func allAccepted(ctx context.Context, rc *rest.Config, scheme *runtime.Scheme, ns, gateway string, controller gwapiv1.GatewayController, n int, limit time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c, err := client.NewWithWatch(rc, client.Options{Scheme: scheme})
	if err != nil {
		return time.Time{}, err
	}
	var routes gwapiv1.HTTPRouteList
	if err := c.List(ctx, &routes, client.InNamespace(ns)); err != nil {
		return time.Time{}, err
	}
	ok := map[string]bool{}
	for _, r := range routes.Items {
		if accepted(r.Status.Parents, gateway, controller) {
			ok[r.Name] = true
		}
	}
	if len(ok) >= n {
		return time.Now(), nil
	}
	w, err := c.Watch(ctx, &gwapiv1.HTTPRouteList{}, client.InNamespace(ns),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: routes.ResourceVersion}})
	if err != nil {
		return time.Time{}, err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		r, isRoute := ev.Object.(*gwapiv1.HTTPRoute)
		if !isRoute {
			return time.Time{}, fmt.Errorf("watching the routes of %s: %v", ns, ev.Object)
		}
		if ev.Type != watch.Deleted && accepted(r.Status.Parents, gateway, controller) {
			ok[r.Name] = true
		} else {
			delete(ok, r.Name)
		}
		if len(ok) >= n {
			return time.Now(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%d of %d routes Accepted by Gateway %s within %v", len(ok), n, gateway, limit)
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

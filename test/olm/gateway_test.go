//go:build e2e

package olm

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// gateway is what deployGateway created.
type gateway struct {
	ns, name string
	// addr is the Gateway Service's ClusterIP:80.
	addr string
}

const (
	backend   = "echo"
	hostname  = "olm.example.com"
	gwReplica = 2
)

// deployGateway creates, in a new namespace, an echo backend, a CaddyProxyConfig, a
// GatewayClass of this operator that references it, a Gateway and an HTTPRoute, and waits
// for a 200 from the backend through Caddy. Everything is deleted when the test ends.
func deployGateway(ctx context.Context, t *testing.T, c client.Client, probeImage string) gateway {
	t.Helper()
	suffix := rand.String(6)
	gw := gateway{ns: "olm-e2e-" + suffix, name: "web"}
	className := "caddy-olm-" + suffix
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gw.ns}}
	class := &gwapiv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec: gwapiv1.GatewayClassSpec{
			ControllerName: "caddygateway.io/gateway-controller",
			ParametersRef: &gwapiv1.ParametersReference{
				Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: "CaddyProxyConfig", Name: "caddy",
				Namespace: ptr.To(gwapiv1.Namespace(gw.ns)),
			},
		},
	}
	gatewayObj := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: gw.name, Namespace: gw.ns},
		Spec: gwapiv1.GatewaySpec{
			GatewayClassName: gwapiv1.ObjectName(className),
			Listeners:        []gwapiv1.Listener{{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80}},
		},
	}
	t.Cleanup(func() {
		ctx := context.Background()
		// The Gateway goes first so the operator releases the class's finalizer.
		for _, o := range []client.Object{gatewayObj, class, ns} {
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("cleanup: %v", err)
			}
			waitGone(ctx, t, c, o)
		}
	})
	objs := []client.Object{ns}
	for _, o := range utils.EchoBackend(gw.ns, backend) {
		if d, ok := o.(*appsv1.Deployment); ok {
			d.Spec.Template.Spec.Containers[0].Image = probeImage
		}
		objs = append(objs, o)
	}
	objs = append(objs,
		&v1alpha1.CaddyProxyConfig{
			ObjectMeta: metav1.ObjectMeta{Name: "caddy", Namespace: gw.ns},
			Spec: v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Kind: ptr.To(v1alpha1.WorkloadDeployment), Replicas: ptr.To[int32](gwReplica),
			}},
		},
		class, gatewayObj, route(gw, "web", "/"))
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
	var svc corev1.Service
	poll(ctx, t, "the Gateway's Service", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: gw.ns, Name: infra.NamesFor(gw.name).Workload}, &svc); err != nil {
			return err
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return fmt.Errorf("no ClusterIP yet")
		}
		return nil
	})
	gw.addr = net.JoinHostPort(svc.Spec.ClusterIP, "80")
	expect200(ctx, t, gw, "/")
	return gw
}

// route is an HTTPRoute named name sending hostname's requests under prefix to the backend.
func route(gw gateway, name, prefix string) *gwapiv1.HTTPRoute {
	return &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: gw.ns},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(gw.name)}}},
			Hostnames:       []gwapiv1.Hostname{hostname},
			Rules: []gwapiv1.HTTPRouteRule{{
				Matches: []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{
					Type: ptr.To(gwapiv1.PathMatchPathPrefix), Value: ptr.To(prefix),
				}}},
				BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
					Name: backend, Port: ptr.To[gwapiv1.PortNumber](8080),
				}}}},
			}},
		},
	}
}

// addRouteAndExpect200 attaches a second route and waits for its traffic.
func addRouteAndExpect200(ctx context.Context, t *testing.T, c client.Client, gw gateway) {
	t.Helper()
	r := route(gw, "after-upgrade", "/after-upgrade")
	if err := c.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	expect200(ctx, t, gw, "/after-upgrade")
}

var (
	probeClient   = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	trafficClient = &http.Client{Timeout: 5 * time.Second, Transport: utils.TrafficTransport()}
)

// get sends GET path with Host hostname to the Gateway through hc and returns an error
// unless the backend answered 200.
func get(ctx context.Context, hc *http.Client, gw gateway, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+gw.addr+path, nil)
	if err != nil {
		return err
	}
	req.Host = hostname
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), backend) {
		return fmt.Errorf("%d %q", resp.StatusCode, body)
	}
	return nil
}

func expect200(ctx context.Context, t *testing.T, gw gateway, path string) {
	t.Helper()
	poll(ctx, t, fmt.Sprintf("GET http://%s%s via %s answers 200 from %s", hostname, path, gw.addr, backend), func(ctx context.Context) error {
		return get(ctx, probeClient, gw, path)
	})
}

// traffic sends a request through a Gateway every 50 ms until stopped, from source ports
// no probe uses (utils.TrafficTransport).
type traffic struct {
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	sent     int
	failures []string
}

func startTraffic(ctx context.Context, gw gateway) *traffic {
	ctx, cancel := context.WithCancel(ctx)
	tr := &traffic{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := get(ctx, trafficClient, gw, "/")
			if ctx.Err() != nil {
				return
			}
			tr.mu.Lock()
			tr.sent++
			if err != nil {
				tr.failures = append(tr.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			tr.mu.Unlock()
		}
	}()
	return tr
}

// stop ends the traffic and returns how many requests were sent and which failed.
func (tr *traffic) stop() (int, []string) {
	tr.cancel()
	<-tr.done
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.sent, tr.failures
}

// waitFleetImage waits until the Gateway's Caddy Deployment runs image and is rolled out.
func waitFleetImage(ctx context.Context, t *testing.T, c client.Client, gw gateway, image string) {
	t.Helper()
	poll(ctx, t, "Caddy fleet of "+gw.name+" on "+image, func(ctx context.Context) error {
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: gw.ns, Name: infra.NamesFor(gw.name).Workload}, &d); err != nil {
			return err
		}
		var images []string
		found := false
		for _, ctr := range d.Spec.Template.Spec.Containers {
			images = append(images, ctr.Image)
			found = found || ctr.Image == image
		}
		if !found {
			return fmt.Errorf("containers run %v", images)
		}
		return rolledOut(&d)
	})
}

package controller_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/testenv"
)

const controllerName gwapiv1.GatewayController = "caddygateway.io/gateway-controller"

// Timeouts of the polls: reconciles take milliseconds, but the machine may be busy.
const (
	waitTimeout = 30 * time.Second
	// quietPeriod is how long an object must stay unchanged to count as settled.
	quietPeriod = 3 * time.Second
)

var (
	env *testenv.Env
	// k8s is a direct client: reads see the API server, never a stale cache.
	k8s client.Client
	// manager runs the reconcilers; tests that call their writers themselves use its
	// client, reader and recorder.
	manager ctrl.Manager
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	e, err := testenv.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the test API server: %v\n", err)
		return 1
	}
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the test API server: %v\n", err)
		}
	}()
	env, k8s = e, e.Client

	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	} else {
		ctrl.SetLogger(zap.New(zap.WriteTo(discard{})))
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The same cache options as cmd/main.go: the reconcilers see only labelled fleet objects.
		Cache: controller.CacheOptions(),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: creating the manager: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The operator's namespace holds the admin objects of every Gateway.
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}}); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: creating the operator's namespace: %v\n", err)
		return 1
	}
	if err := controller.Setup(ctx, mgr, setupOptions()); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: setting up the controllers: %v\n", err)
		return 1
	}
	manager = mgr
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	synced := mgr.GetCache().WaitForCacheSync(syncCtx)
	syncCancel()
	if !synced {
		fmt.Fprintln(os.Stderr, "FAIL: the manager's caches did not sync within a minute")
		return 1
	}

	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "the manager stopped with an error: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// setupOptions are the options the manager's reconcilers are set up with.
func setupOptions() controller.Options {
	return controller.Options{ControllerName: controllerName, CaddyImage: "caddy:test", OperatorImage: "operator:test",
		Operator:   infra.OperatorPods{Namespace: operatorNS, Labels: map[string]string{"control-plane": "controller-manager"}},
		MountGrace: testMountGrace, ObserveTranslationInput: translations.observe}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// eventually calls check until it returns nil, failing the test with the last error when
// timeout passes first.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := 20 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(interval)
		interval = min(interval*2, 250*time.Millisecond)
	}
}

// consistently calls check for the whole period and fails the test as soon as it errs.
func consistently(t *testing.T, period time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(period)
	for time.Now().Before(deadline) {
		if err := check(); err != nil {
			t.Fatalf("condition broke within %s: %v", period, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var (
	nonName = regexp.MustCompile(`[^a-z0-9]+`)
	// sequence numbers the names handed out.
	sequence atomic.Int64
)

// uniqueName turns the test name plus suffix into a valid object name, unique in the
// process (a sequence number ends it, so that -count=N runs do not collide).
func uniqueName(t *testing.T, suffix string) string {
	seq := fmt.Sprintf("-%d", sequence.Add(1))
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()+"-"+suffix), "-"), "-")
	if limit := 63 - len(seq); len(n) > limit {
		h := fnv.New32a()
		h.Write([]byte(n))
		hash := fmt.Sprintf("-%08x", h.Sum32())
		n = strings.TrimRight(n[:limit-len(hash)], "-") + hash
	}
	return n + seq
}

// newNamespace creates a namespace for the test. envtest runs no namespace controller, so
// the namespace is left behind; its objects are deleted by each test's cleanups.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := uniqueName(t, "ns")
	if err := k8s.Create(ctxFor(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
	return ns
}

// create creates obj and deletes it when the test ends.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(ctxFor(t), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
	t.Cleanup(func() {
		if err := k8s.Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
		}
	})
}

// update reads obj, applies mutate and writes it back, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, mutate func(T)) {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return k8s.Update(ctxFor(t), obj)
	})
}

func paramsRef(namespace, name string) *gwapiv1.ParametersReference {
	ns := gwapiv1.Namespace(namespace)
	return &gwapiv1.ParametersReference{
		Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig,
		Name: name, Namespace: &ns,
	}
}

func newClass(name string, owner gwapiv1.GatewayController, ref *gwapiv1.ParametersReference) *gwapiv1.GatewayClass {
	return &gwapiv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       gwapiv1.GatewayClassSpec{ControllerName: owner, ParametersRef: ref},
	}
}

func newGateway(namespace, name, class string) *gwapiv1.Gateway {
	return &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: gwapiv1.GatewaySpec{
			GatewayClassName: gwapiv1.ObjectName(class),
			Listeners:        []gwapiv1.Listener{{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80}},
		},
	}
}

func newCPC(namespace, name string, spec v1alpha1.CaddyProxyConfigSpec) *v1alpha1.CaddyProxyConfig {
	return &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
}

// conflictingPorts is a spec the API server accepts but the operator rejects: the admin
// and metrics ports are both 9180.
func conflictingPorts() v1alpha1.CaddyProxyConfigSpec {
	port := int32(9180)
	return v1alpha1.CaddyProxyConfigSpec{
		ControlPlane: &v1alpha1.ControlPlaneSpec{AdminPort: &port},
		Caddy:        &v1alpha1.CaddyRuntimeSpec{Metrics: &v1alpha1.MetricsSpec{Port: &port}},
	}
}

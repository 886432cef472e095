package gatewaysecrets

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/testenv"
)

// env is the API server every test of this package uses; admin talks to it as an
// administrator.
var (
	env   *testenv.Env
	admin kubernetes.Interface
)

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	admin = kubernetes.NewForConfigOrDie(env.Config)
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
	os.Exit(code)
}

var namespaces atomic.Int32

// fixture creates a namespace holding a Gateway's storage Secrets and Leases, as the
// operator does, and returns their configuration.
func fixture(t testing.TB) acmestore.StorageConfig {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("store-%d", namespaces.Add(1))
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := acmestore.For(ns, "gw")
	for i := range acmestore.Shards {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cfg.Secrets[i]}}
		if _, err := admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: cfg.Leases[i]}}
		if _, err := admin.CoordinationV1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// replica returns a Storage as one Caddy pod would have it, named holder, connected with rc
// (the administrator when nil), with a short lease and retry interval.
func replica(t testing.TB, cfg acmestore.StorageConfig, holder string, rc *rest.Config) *Storage {
	t.Helper()
	if rc == nil {
		rc = env.Config
	}
	s, err := New(Options{Config: cfg, REST: rc, Holder: holder, LeaseDuration: 2 * time.Second, RetryInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ctxT is a context bounded so that a hung test fails instead of blocking.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

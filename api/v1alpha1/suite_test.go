package v1alpha1_test

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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/testenv"
)

// env is the API server every test of this package talks to; testNS is their namespace.
var env *testenv.Env

const testNS = "validation"

func TestMain(m *testing.M) {
	e, err := testenv.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the test API server: %v\n", err)
		os.Exit(1)
	}
	env = e
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}})
	cancel()
	code := 1
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: creating namespace %s: %v\n", testNS, err)
	} else {
		code = m.Run()
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the test API server: %v\n", err)
	}
	os.Exit(code)
}

var (
	nonName = regexp.MustCompile(`[^a-z0-9]+`)
	// sequence numbers the names handed out.
	sequence atomic.Int64
)

// objectName turns the test name into a valid object name, unique in the process (a
// sequence number ends it, so that -count=N runs do not collide).
func objectName(t *testing.T) string {
	seq := fmt.Sprintf("-%d", sequence.Add(1))
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if limit := 63 - len(seq); len(n) > limit {
		h := fnv.New32a()
		h.Write([]byte(n))
		hash := fmt.Sprintf("-%08x", h.Sum32())
		n = strings.TrimRight(n[:limit-len(hash)], "-") + hash
	}
	return n + seq
}

// fromSpecYAML builds an unstructured CaddyProxyConfig named after the test from the YAML
// of its spec, so that invalid values the Go types cannot hold reach the API server.
func fromSpecYAML(t *testing.T, specYAML string) *unstructured.Unstructured {
	t.Helper()
	var spec map[string]any
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		t.Fatalf("test spec is not YAML: %v\n%s", err, specYAML)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.KindCaddyProxyConfig))
	u.SetNamespace(testNS)
	u.SetName(objectName(t))
	return u
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

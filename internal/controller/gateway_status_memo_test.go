package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// statusPatches counts the status patches of a fake client, and those that failed.
type statusPatches struct{ patches, failed int }

// statusPatchCounting returns a fake client holding objs, with a status subresource,
// that counts its status patches.
func statusPatchCounting(t *testing.T, objs ...client.Object) (client.Client, *statusPatches) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := gwapiv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	n := &statusPatches{}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(objs...).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				n.patches++
				err := c.SubResource(sub).Patch(ctx, obj, p, opts...)
				if err != nil {
					n.failed++
				}
				return err
			},
		}).Build()
	return c, n
}

// countingReader counts the reads that bypass the cache.
type countingReader struct {
	client.Reader
	reads int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.reads++
	return c.Reader.Get(ctx, key, obj, opts...)
}

// TestGatewayStatusOnCacheBehind: a reconcile that starts while the cache still holds the
// Gateway its last status write replaced writes its status in one request, without a
// conflict and a read of the Gateway from the API server; a cache that has moved on is
// trusted again.
func TestGatewayStatusOnCacheBehind(t *testing.T) {
	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "gw", UID: "u1", Generation: 1}}
	c, n := statusPatchCounting(t, gw)
	reader := &countingReader{Reader: c}
	r := &GatewayReconciler{Client: c, APIReader: reader}
	ctx := context.Background()
	var cached gwapiv1.Gateway // what the cache holds throughout: the Gateway before any write
	if err := c.Get(ctx, client.ObjectKeyFromObject(gw), &cached); err != nil {
		t.Fatal(err)
	}
	condition := func(reason string) metav1.Condition {
		return metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: reason, ObservedGeneration: 1}
	}

	for i, reason := range []string{"First", "Second", "Third"} {
		next := cached.DeepCopy()
		r.statuses.latest(next)
		if _, err := r.writeStatus(ctx, next, nil, nil, addressReport{}, condition(reason)); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	if n.patches != 3 || n.failed != 0 || reader.reads != 0 {
		t.Fatalf("three writes on a cache behind: %d patches, %d conflicts, %d reads from the API server; want 3, 0, 0",
			n.patches, n.failed, reader.reads)
	}
	var got gwapiv1.Gateway
	if err := c.Get(ctx, client.ObjectKeyFromObject(gw), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Reason != "Third" {
		t.Fatalf("conditions %+v; want the third write's", got.Status.Conditions)
	}

	// The cache caught up: it is what the next reconcile decides on, and the write is forgotten.
	caught := got.DeepCopy()
	r.statuses.latest(caught)
	if caught.ResourceVersion != got.ResourceVersion {
		t.Fatalf("a cache that caught up: decided on version %s; want the cache's %s", caught.ResourceVersion, got.ResourceVersion)
	}
	if len(r.statuses.m) != 0 {
		t.Fatalf("the write is still remembered once the cache moved past it: %v", r.statuses.m)
	}
}

//go:build e2e

package e2e

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
)

func TestDaemonSetFleet(t *testing.T) {
	const gwName = "node-local"
	class := envconf.RandomName("e2e-ds", 16)
	f := features.New("a Gateway served by a DaemonSet").
		Assess("one configured Caddy per node", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			cpc := &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
				Workload: &v1alpha1.WorkloadSpec{Kind: ptr.To(v1alpha1.WorkloadDaemonSet)},
				Service:  &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
			}}
			gc, gw := gatewayClass(class, ns, "ds"), httpGateway(ns, gwName, class)
			t.Cleanup(func() { deleteAll(context.Background(), t, c, gw, gc, cpc) })
			for _, o := range []client.Object{cpc, gc, gw} {
				if err := c.Create(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			var ds appsv1.DaemonSet
			poll(ctx, t, "DaemonSet", func(ctx context.Context) error {
				return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &ds)
			})
			poll(ctx, t, "DaemonSet pods Ready", func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(&ds), &ds); err != nil {
					return err
				}
				if ds.Status.DesiredNumberScheduled == 0 || ds.Status.NumberReady != ds.Status.DesiredNumberScheduled {
					return errNotReady(ds.Status.NumberReady, ds.Status.DesiredNumberScheduled)
				}
				return nil
			})
			var dep appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &dep); client.IgnoreNotFound(err) != nil || err == nil {
				t.Fatalf("a DaemonSet fleet must have no Deployment: %v", err)
			}
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/e2e-framework/klient/wait/conditions"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

const controllerName = "caddygateway.io/gateway-controller"

func gatewayClass(name, ns, params string) *gwapiv1.GatewayClass {
	pns := gwapiv1.Namespace(ns)
	return &gwapiv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gwapiv1.GatewayClassSpec{
			ControllerName: controllerName,
			ParametersRef: &gwapiv1.ParametersReference{
				Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig,
				Name: params, Namespace: &pns,
			},
		},
	}
}

// acceptedIs waits until the class's Accepted condition has the status and reason, and
// its message contains msg.
func acceptedIs(ctx context.Context, t *testing.T, cfg *envconf.Config, gc *gwapiv1.GatewayClass, st metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	var last *metav1.Condition
	err := wait.For(conditions.New(cfg.Client().Resources()).ResourceMatch(gc, func(o k8s.Object) bool {
		last = meta.FindStatusCondition(o.(*gwapiv1.GatewayClass).Status.Conditions, string(gwapiv1.GatewayClassConditionStatusAccepted))
		return last != nil && last.Status == st && last.Reason == reason && strings.Contains(last.Message, msg)
	}), wait.WithTimeout(time.Minute), wait.WithInterval(500*time.Millisecond))
	if err != nil {
		t.Fatalf("GatewayClass %s: want Accepted=%s reason %s message containing %q, last seen %+v: %v", gc.Name, st, reason, msg, last, err)
	}
}

func TestGatewayClassParameters(t *testing.T) {
	valid := features.New("GatewayClass with a valid CaddyProxyConfig").
		Assess("is Accepted with SupportedVersion", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			cpc := &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "valid", Namespace: cfg.Namespace()}}
			gc := gatewayClass(envconf.RandomName("e2e-valid", 16), cfg.Namespace(), "valid")
			t.Cleanup(func() { deleteAll(context.Background(), t, c, gc, cpc) })
			for _, o := range []k8s.Object{cpc, gc} {
				if err := c.Create(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			acceptedIs(ctx, t, cfg, gc, metav1.ConditionTrue, string(gwapiv1.GatewayClassReasonAccepted), "")
			cond := meta.FindStatusCondition(gc.Status.Conditions, string(gwapiv1.GatewayClassConditionStatusSupportedVersion))
			if cond == nil || cond.Status != metav1.ConditionTrue {
				t.Fatalf("SupportedVersion: want True, got %+v", cond)
			}
			return ctx
		}).Feature()

	invalid := features.New("GatewayClass with a missing CaddyProxyConfig").
		Assess("is InvalidParameters until the CaddyProxyConfig exists", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			gc := gatewayClass(envconf.RandomName("e2e-missing", 16), cfg.Namespace(), "late")
			cpc := &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: cfg.Namespace()}}
			t.Cleanup(func() { deleteAll(context.Background(), t, c, gc, cpc) })
			if err := c.Create(ctx, gc); err != nil {
				t.Fatal(err)
			}
			acceptedIs(ctx, t, cfg, gc, metav1.ConditionFalse, string(gwapiv1.GatewayClassReasonInvalidParameters),
				"CaddyProxyConfig "+cfg.Namespace()+"/late not found")
			if err := c.Create(ctx, cpc); err != nil {
				t.Fatal(err)
			}
			acceptedIs(ctx, t, cfg, gc, metav1.ConditionTrue, string(gwapiv1.GatewayClassReasonAccepted), "")
			return ctx
		}).Feature()

	testenv.Test(t, valid, invalid)
}

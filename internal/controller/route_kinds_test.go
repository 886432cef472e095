package controller_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/testenv"
)

// TestMissingRouteCRD: on an API server without the GRPCRoute CRD, the operator starts,
// logs that GRPCRoutes are not served, and still gives an HTTPRoute its parent entry.
func TestMissingRouteCRD(t *testing.T) {
	e, err := testenv.Start()
	if err != nil {
		t.Fatalf("starting a second test API server: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping the second test API server: %v", err)
		}
	})
	c := e.Client
	removeCRD(t, e, "grpcroutes."+gwapiv1.GroupName, "grpcroutes")

	var mu sync.Mutex
	var logs []string
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, prefix+" "+args)
	}, funcr.Options{})
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme: e.Scheme, Logger: logger,
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: controller.CacheOptions(),
		// The suite's manager runs controllers of the same names in this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the manager stopped with an error: %v", err)
		}
	})
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}})
	if err := controller.Setup(ctx, mgr, controller.Options{ControllerName: controllerName, CaddyImage: "caddy:test", OperatorImage: "operator:test",
		Operator: infra.OperatorPods{Namespace: operatorNS, Labels: map[string]string{"control-plane": "controller-manager"}}}); err != nil {
		done <- nil
		t.Fatalf("setting up the controllers without the GRPCRoute CRD: %v", err)
	}
	go func() { done <- mgr.Start(ctx) }()

	ns := "app"
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	mustCreate(t, c, newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{}))
	mustCreate(t, c, newClass("caddy", controllerName, paramsRef(ns, "params")))
	mustCreate(t, c, newGateway(ns, "gw", "caddy"))
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec:       gwapiv1.HTTPRouteSpec{CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw"}}}},
	}
	mustCreate(t, c, route)
	eventually(t, waitTimeout, func() error {
		var got gwapiv1.HTTPRoute
		if err := c.Get(ctx, client.ObjectKeyFromObject(route), &got); err != nil {
			return err
		}
		return reasonIs(got.Status.Parents, "gw", string(gwapiv1.RouteReasonAccepted))
	})

	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, l := range logs {
		found = found || strings.Contains(l, "its CRD is not installed") && strings.Contains(l, `"kind"="GRPCRoute"`)
	}
	if !found {
		t.Errorf("no log line says GRPCRoutes are not served; logs:\n%s", strings.Join(logs, "\n"))
	}
}

// removeCRD deletes the CRD named name and waits until discovery no longer lists
// resource in the Gateway API's version.
func removeCRD(t *testing.T, e *testenv.Env, name, resource string) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := e.Client.Delete(context.Background(), crd); err != nil {
		t.Fatalf("deleting CRD %s: %v", name, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTimeout, func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(crd), crd); !apierrors.IsNotFound(err) {
			return fmt.Errorf("CRD %s still there (%v)", name, err)
		}
		list, err := disc.ServerResourcesForGroupVersion(gwapiv1.GroupVersion.String())
		if err != nil {
			return err
		}
		for _, r := range list.APIResources {
			if r.Name == resource {
				return fmt.Errorf("discovery still lists %s", resource)
			}
		}
		return nil
	})
}

// mustCreate creates obj with c, failing the test on an error.
func mustCreate(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

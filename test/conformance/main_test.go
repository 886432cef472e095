//go:build conformance

// Package conformance runs the Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance)
// against the operator in a real cluster. TestMain builds the suite's echo-basic backend from
// source, loads it and the operator images with IMAGE_LOADER, deploys config/default and creates
// the GatewayClass the suite tests; it removes all of that again at the end.
//
//	KUBECONFIG=... IMAGE_LOADER="kind load image-archive" make conformance
package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// className is the GatewayClass the suite tests (its --gateway-class default).
	className = "gateway-conformance"
	// paramsName names the CaddyProxyConfig of that class, in the operator's namespace.
	paramsName = "conformance"
	// controllerName is the operator's GatewayClass controllerName.
	controllerName = "caddygateway.io/gateway-controller"
	// echoPackage is the suite's backend, built from source into EchoImage.
	echoPackage = "sigs.k8s.io/gateway-api-conformance-images/echo-basic"
)

// suiteNamespaces are the namespaces the suite's base manifests create; they are removed
// at the end even when the suite stopped before its own cleanup.
var suiteNamespaces = []string{"gateway-conformance-infra", "gateway-conformance-app-backend", "gateway-conformance-web-backend"}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBECONFIG") == "" {
		fmt.Fprintln(os.Stderr, "conformance: KUBECONFIG is not set; point it at the cluster to test")
		return 1
	}
	ctx := context.Background()
	c, err := newClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 1
	}
	installed, err := setup(ctx, c)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance: setup:", err)
	} else {
		code = m.Run()
	}
	start := time.Now()
	if err := teardown(ctx, c, installed); err != nil {
		fmt.Fprintln(os.Stderr, "conformance: cleanup:", err)
		code = 1
	}
	fmt.Printf("conformance: cleanup took %s\n", time.Since(start).Round(time.Second))
	return code
}

func newClient() (client.Client, error) {
	cfg, err := config.GetConfig()
	if err != nil {
		return nil, err
	}
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gwapiv1.Install, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return client.New(cfg, client.Options{Scheme: s})
}

// setup loads the echo-basic image, deploys the operator and creates the GatewayClass.
func setup(ctx context.Context, c client.Client) ([]*unstructured.Unstructured, error) {
	root, err := utils.RepoRoot()
	if err != nil {
		return nil, err
	}
	loader := os.Getenv("IMAGE_LOADER")
	start := time.Now()
	echo, err := utils.BuildBinaryImage(ctx, root, filepath.Join(root, "bin", "images"), echoPackage, "/echo-basic", EchoImage)
	if err != nil {
		return nil, err
	}
	if err := utils.LoadImage(ctx, loader, echo); err != nil {
		return nil, err
	}
	installed, err := utils.InstallOperator(ctx, c, utils.InstallOptions{
		Root: root, Image: envOr("IMG", "localhost/caddy-gateway-operator:dev"),
		CaddyImage: envOr("CADDY_IMG", "localhost/caddy-gateway-caddy:dev"), Loader: loader,
	})
	if err != nil {
		return installed, err
	}
	params := &v1alpha1.CaddyProxyConfig{
		ObjectMeta: metav1.ObjectMeta{Name: paramsName, Namespace: utils.OperatorNamespace},
		Spec: v1alpha1.CaddyProxyConfigSpec{
			// The suite dials Gateway addresses from this process; cluster IPs are what a
			// cluster without a load balancer offers.
			Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
		},
	}
	ns := gwapiv1.Namespace(utils.OperatorNamespace)
	class := &gwapiv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec: gwapiv1.GatewayClassSpec{
			ControllerName: controllerName,
			ParametersRef: &gwapiv1.ParametersReference{
				Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: "CaddyProxyConfig", Name: paramsName, Namespace: &ns,
			},
		},
	}
	for _, o := range []client.Object{params, class} {
		if err := c.Create(ctx, o); err != nil {
			return installed, fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	// The suite reads the features to test from the class's status once, at its start.
	if err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(class), class); err != nil {
			return false, nil //nolint:nilerr // the operator may still be starting: poll on
		}
		return len(class.Status.SupportedFeatures) > 0, nil
	}); err != nil {
		return installed, fmt.Errorf("GatewayClass %s never listed its supported features: %w", className, err)
	}
	fmt.Printf("conformance: echo-basic, operator and GatewayClass %s ready in %s\n", className, time.Since(start).Round(time.Second))
	return installed, nil
}

// teardown removes the suite's namespaces, the GatewayClass and the operator, waiting for
// each so the next step does not strand a finalizer.
func teardown(ctx context.Context, c client.Client, installed []*unstructured.Unstructured) error {
	for _, name := range suiteNamespaces {
		if err := deleteAndWait(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, 5*time.Minute); err != nil {
			return err
		}
	}
	if err := deleteAndWait(ctx, c, &gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: className}}, 2*time.Minute); err != nil {
		return err
	}
	return utils.Delete(ctx, c, installed)
}

func deleteAndWait(ctx context.Context, c client.Client, o client.Object, timeout time.Duration) error {
	if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %T %s: %w", o, o.GetName(), err)
	}
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(o), o)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("%T %s is still there after %s: %w", o, o.GetName(), timeout, err)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

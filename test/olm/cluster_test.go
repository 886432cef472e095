//go:build e2e

package olm

import (
	"context"
	"fmt"
	"testing"
	"time"

	operatorsv1 "github.com/operator-framework/api/pkg/operators/v1"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/test/utils"
)

func newClient(t *testing.T) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, gwapiv1.Install, v1alpha1.AddToScheme, apiextensionsv1.AddToScheme,
		operatorsv1alpha1.AddToScheme, operatorsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.GetConfig()
	if err != nil {
		t.Fatalf("KUBECONFIG: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// poll calls f until it returns nil, failing the test with f's last error after pollTimeout.
func poll(ctx context.Context, t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, pollTimeout, true, func(ctx context.Context) (bool, error) {
		last = f(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
}

// subscribe creates the install namespace, a global OperatorGroup (the operator supports
// AllNamespaces only), a CatalogSource serving catalog and a Subscription to the package.
func subscribe(ctx context.Context, t *testing.T, c client.Client, catalog string) {
	t.Helper()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: installNamespace}},
		&operatorsv1.OperatorGroup{ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace}},
		&operatorsv1alpha1.CatalogSource{
			ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace},
			Spec: operatorsv1alpha1.CatalogSourceSpec{
				SourceType: operatorsv1alpha1.SourceTypeGrpc, Image: catalog, DisplayName: "Caddy Gateway (test)",
				GrpcPodConfig: &operatorsv1alpha1.GrpcPodConfig{SecurityContextConfig: operatorsv1alpha1.Restricted},
			},
		},
		&operatorsv1alpha1.Subscription{
			ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace},
			Spec: &operatorsv1alpha1.SubscriptionSpec{
				Package: packageName, Channel: channel, CatalogSource: packageName,
				CatalogSourceNamespace: installNamespace, InstallPlanApproval: operatorsv1alpha1.ApprovalAutomatic,
			},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// switchCatalog points the CatalogSource at another catalog image.
func switchCatalog(ctx context.Context, t *testing.T, c client.Client, catalog string) {
	t.Helper()
	var cs operatorsv1alpha1.CatalogSource
	if err := c.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: packageName}, &cs); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cs.DeepCopy())
	cs.Spec.Image = catalog
	if err := c.Patch(ctx, &cs, patch); err != nil {
		t.Fatal(err)
	}
}

// waitCSVSucceeded waits for the Subscription to install csv and the CSV to succeed.
func waitCSVSucceeded(ctx context.Context, t *testing.T, c client.Client, csv string) {
	t.Helper()
	poll(ctx, t, "CSV "+csv+" Succeeded", func(ctx context.Context) error {
		var sub operatorsv1alpha1.Subscription
		if err := c.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: packageName}, &sub); err != nil {
			return err
		}
		if sub.Status.InstalledCSV != csv {
			return fmt.Errorf("subscription: state %q, currentCSV %q, installedCSV %q, conditions %v",
				sub.Status.State, sub.Status.CurrentCSV, sub.Status.InstalledCSV, sub.Status.Conditions)
		}
		var got operatorsv1alpha1.ClusterServiceVersion
		if err := c.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: csv}, &got); err != nil {
			return err
		}
		if got.Status.Phase != operatorsv1alpha1.CSVPhaseSucceeded {
			return fmt.Errorf("phase %s: %s %s", got.Status.Phase, got.Status.Reason, got.Status.Message)
		}
		return nil
	})
}

// waitCSVGone waits until OLM has removed a replaced CSV.
func waitCSVGone(ctx context.Context, t *testing.T, c client.Client, csv string) {
	t.Helper()
	poll(ctx, t, "replaced CSV "+csv+" removed", func(ctx context.Context) error {
		var got operatorsv1alpha1.ClusterServiceVersion
		err := c.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: csv}, &got)
		if err == nil {
			return fmt.Errorf("still there, phase %s", got.Status.Phase)
		}
		return client.IgnoreNotFound(err)
	})
}

// checkOperatorImages waits until the operator Deployment runs r's images, fully rolled out.
func checkOperatorImages(ctx context.Context, t *testing.T, c client.Client, r release) {
	t.Helper()
	poll(ctx, t, "operator Deployment on "+r.operatorImage, func(ctx context.Context) error {
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: utils.OperatorDeployment}, &d); err != nil {
			return err
		}
		ctr := d.Spec.Template.Spec.Containers[0]
		env := map[string]string{}
		for _, e := range ctr.Env {
			env[e.Name] = e.Value
		}
		if ctr.Image != r.operatorImage || env["OPERATOR_IMAGE"] != r.operatorImage || env["CADDY_IMAGE"] != r.caddyImage {
			return fmt.Errorf("image %s, OPERATOR_IMAGE %s, CADDY_IMAGE %s", ctr.Image, env["OPERATOR_IMAGE"], env["CADDY_IMAGE"])
		}
		return rolledOut(&d)
	})
}

func rolledOut(d *appsv1.Deployment) error {
	s := d.Status
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.ReadyReplicas != want || s.Replicas != want {
		return fmt.Errorf("deployment %s not rolled out: %+v", d.Name, s)
	}
	return nil
}

// uninstallOnCleanup removes, when the test ends, everything subscribe and OLM installed:
// the Subscription, CSVs, InstallPlans, CatalogSource, OperatorGroup, the namespace, the
// cluster roles OLM created for the CSVs and the CRD (OLM leaves CRDs behind).
func uninstallOnCleanup(t *testing.T, c client.Client) {
	t.Cleanup(func() {
		ctx := context.Background()
		in := client.InNamespace(installNamespace)
		for _, o := range []client.Object{
			&operatorsv1alpha1.Subscription{ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace}},
			&operatorsv1alpha1.CatalogSource{ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace}},
		} {
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("uninstall: %v", err)
			}
		}
		for _, list := range []client.Object{&operatorsv1alpha1.ClusterServiceVersion{}, &operatorsv1alpha1.InstallPlan{}, &operatorsv1.OperatorGroup{}} {
			if err := c.DeleteAllOf(ctx, list, in); client.IgnoreNotFound(err) != nil {
				t.Errorf("uninstall: %v", err)
			}
		}
		owned := client.MatchingLabels{"olm.owner.namespace": installNamespace}
		for _, list := range []client.Object{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRole{}} {
			if err := c.DeleteAllOf(ctx, list, owned); err != nil {
				t.Errorf("uninstall: %v", err)
			}
		}
		crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "caddyproxyconfigs.gateway.caddygateway.io"}}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: installNamespace}}
		for _, o := range []client.Object{crd, ns} {
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("uninstall: %v", err)
			}
			waitGone(ctx, t, c, o)
		}
	})
}

// waitGone waits until o no longer exists.
func waitGone(ctx context.Context, t *testing.T, c client.Client, o client.Object) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(o), o)
		return err != nil && client.IgnoreNotFound(err) == nil, nil
	})
	if err != nil {
		t.Errorf("%T %s is still there: %v", o, client.ObjectKeyFromObject(o), err)
	}
}

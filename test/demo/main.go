// Command demo installs the operator and the samples into a cluster and shows what the
// operator made of them. `make demo` runs it. The cluster is, in order: the one KUBECONFIG
// names; the local test bed in LOCALCLUSTER (started if needed); a kind cluster (created if
// needed).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

func main() {
	// The clients below log through controller-runtime; without a logger it prints a
	// warning with a stack trace after 30 seconds.
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	root, err := utils.RepoRoot()
	if err != nil {
		return err
	}
	kubeconfig, loader, err := cluster(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("cluster: %s\nimage loader: %s\n", kubeconfig, loader)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwapiv1.Install(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return err
	}

	if err := ensureGatewayAPI(ctx, c, root); err != nil {
		return err
	}
	fmt.Println("building and installing the operator ...")
	if _, err := utils.InstallOperator(ctx, c, utils.InstallOptions{
		Root: root, Image: envOr("IMG", "localhost/caddy-gateway-operator:dev"),
		CaddyImage: envOr("CADDY_IMG", "localhost/caddy-gateway-caddy:dev"), Loader: loader,
	}); err != nil {
		return err
	}
	probe, err := utils.BuildBinaryImage(ctx, root, filepath.Join(root, "bin", "images"), "./test/probe", "/probe", utils.ProbeImage)
	if err != nil {
		return err
	}
	if err := utils.LoadImage(ctx, loader, probe); err != nil {
		return err
	}
	fmt.Println("deploying the echo backend and config/samples ...")
	for _, o := range utils.EchoBackend("default", "echo") {
		if err := c.Create(ctx, o); client.IgnoreAlreadyExists(err) != nil {
			return err
		}
	}
	samples, err := utils.Kustomize(ctx, root, "config/samples")
	if err != nil {
		return err
	}
	if err := utils.Apply(ctx, c, samples); err != nil {
		return err
	}
	if err := showClass(ctx, c, "caddy"); err != nil {
		return err
	}
	if err := waitProgrammed(ctx, c, "default", "demo"); err != nil {
		return err
	}
	url := fmt.Sprintf("http://%s.default.svc.cluster.local/", infra.NamesFor("demo").Workload)
	fmt.Printf("curl -H 'Host: demo.example.com' %s (from a pod in the cluster):\n", url)
	out, err := utils.RunProbePod(ctx, c, cfg, utils.ProbePod("default", fmt.Sprintf("demo-curl-%d", time.Now().Unix()), "get", url, "demo.example.com"), 2*time.Minute)
	fmt.Print(out)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "200 OK") || !strings.Contains(out, "backend=echo") {
		return errors.New("the request through the demo Gateway did not reach the echo backend")
	}
	return nil
}

// waitProgrammed waits until the Gateway runs its configuration and prints its conditions.
func waitProgrammed(ctx context.Context, c client.Client, ns, name string) error {
	fmt.Printf("waiting for Gateway %s/%s to be programmed ...\n", ns, name)
	var gw gwapiv1.Gateway
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &gw); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwapiv1.GatewayConditionProgrammed)), nil
	})
	for _, cond := range gw.Status.Conditions {
		fmt.Printf("Gateway %s: %s=%s (%s) %s\n", name, cond.Type, cond.Status, cond.Reason, cond.Message)
	}
	if err != nil {
		return fmt.Errorf("gateway %s/%s is not programmed: %w", ns, name, err)
	}
	return nil
}

// showClass waits for the operator to decide on the class and prints its conditions.
func showClass(ctx context.Context, c client.Client, name string) error {
	var gc gwapiv1.GatewayClass
	err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &gc); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		cond := meta.FindStatusCondition(gc.Status.Conditions, string(gwapiv1.GatewayClassConditionStatusAccepted))
		return cond != nil && cond.Status != metav1.ConditionUnknown, nil
	})
	if err != nil {
		return fmt.Errorf("GatewayClass %s got no Accepted condition: %w", name, err)
	}
	for _, cond := range gc.Status.Conditions {
		fmt.Printf("GatewayClass %s: %s=%s (%s) %s\n", name, cond.Type, cond.Status, cond.Reason, cond.Message)
	}
	if !meta.IsStatusConditionTrue(gc.Status.Conditions, string(gwapiv1.GatewayClassConditionStatusAccepted)) {
		return fmt.Errorf("GatewayClass %s is not accepted", name)
	}
	return nil
}

// cluster picks the cluster to use and the command that loads images into it.
func cluster(ctx context.Context) (kubeconfig, loader string, err error) {
	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		return kc, os.Getenv("IMAGE_LOADER"), nil
	}
	if lc := os.Getenv("LOCALCLUSTER"); lc != "" {
		if _, err := os.Stat(filepath.Join(lc, "up.sh")); err == nil {
			return localCluster(ctx, lc)
		}
	}
	if _, err := exec.LookPath("kind"); err == nil {
		return kindCluster(ctx)
	}
	return "", "", errors.New("no cluster: set KUBECONFIG, or install kind")
}

func localCluster(ctx context.Context, dir string) (string, string, error) {
	kubeconfig := "/var/lib/localcluster/admin.kubeconfig"
	fmt.Println("building the local cluster (10–20 minutes on a new machine with idle cores, more when they are busy; seconds once built) ...")
	if err := utils.RunShowing(ctx, os.Stdout, dir, "./build.sh"); err != nil {
		return "", "", err
	}
	if !reachable(kubeconfig) {
		fmt.Println("starting the local cluster ...")
		if err := utils.RunShowing(ctx, os.Stdout, dir, "./up.sh"); err != nil {
			return "", "", err
		}
	}
	return kubeconfig, filepath.Join(dir, "image.sh") + " import", nil
}

// reachable reports whether the API server of kubeconfig answers.
func reachable(kubeconfig string) bool {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return false
	}
	cfg.Timeout = 5 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = dc.ServerVersion()
	return err == nil
}

// ensureGatewayAPI installs the Gateway API CRDs of the release this operator is built
// against (from the Go module) when the cluster has none.
func ensureGatewayAPI(ctx context.Context, c client.Client, root string) error {
	var classes gwapiv1.GatewayClassList
	if err := c.List(ctx, &classes); err == nil {
		return nil
	} else if !meta.IsNoMatchError(err) {
		return err
	}
	dir, err := utils.Run(ctx, root, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	if err != nil {
		return err
	}
	fmt.Println("installing the Gateway API CRDs ...")
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "config", "crd", "standard", "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := utils.DecodeYAML(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := utils.Apply(ctx, c, objs); err != nil {
			return err
		}
	}
	return nil
}

func kindCluster(ctx context.Context) (string, string, error) {
	kubeconfig := filepath.Join(os.TempDir(), "caddy-gateway-demo.kubeconfig")
	if out, err := utils.Run(ctx, "", "kind", "get", "kubeconfig", "--name", "caddy-gateway-demo"); err == nil {
		if err := os.WriteFile(kubeconfig, out, 0o600); err != nil {
			return "", "", err
		}
	} else if err := utils.RunShowing(ctx, os.Stdout, "", "kind", "create", "cluster", "--name", "caddy-gateway-demo", "--kubeconfig", kubeconfig); err != nil {
		return "", "", err
	}
	return kubeconfig, "kind load image-archive --name caddy-gateway-demo", nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

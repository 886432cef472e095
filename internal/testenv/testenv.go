// Package testenv starts a kube-apiserver and etcd (controller-runtime envtest) loaded with
// the CaddyProxyConfig CRD of this module and the experimental-channel Gateway API CRDs of
// the gateway-api module in the module cache, serving ClusterTrustBundles. It is shared by the envtest-based tests.
//
// The binaries come from KUBEBUILDER_ASSETS (make envtest-assets prints a suitable
// directory). When they cannot be found Start returns an error that says what is missing:
// the callers turn it into a test failure, never a skip.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// GatewayAPIModule is the module whose CRDs are installed.
const GatewayAPIModule = "sigs.k8s.io/gateway-api"

// defaultAssetsDir is where envtest looks when KUBEBUILDER_ASSETS is unset.
const defaultAssetsDir = "/usr/local/kubebuilder/bin"

// Env is a running test API server.
type Env struct {
	// Config connects to the API server as an administrator.
	Config *rest.Config
	// Client is a direct (uncached) client using Scheme.
	Client client.Client
	// Scheme knows the core, apiextensions, Gateway API and CaddyProxyConfig types.
	Scheme *k8sruntime.Scheme
	// ModuleRoot is the directory of this module's go.mod.
	ModuleRoot string

	env *envtest.Environment
}

// NewScheme returns a scheme with every type the tests use.
func NewScheme() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(gwapiv1.Install(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// Start checks the envtest binaries, starts the API server and installs the CRDs. Call
// Stop when done.
func Start() (*Env, error) {
	if err := checkAssets(); err != nil {
		return nil, err
	}
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	gwDir, err := GatewayAPICRDDir(root)
	if err != nil {
		return nil, err
	}
	ourDir := filepath.Join(root, "config", "crd", "bases")
	scheme := NewScheme()
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{ourDir, gwDir},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	// ClusterTrustBundles (beta, off by default in Kubernetes 1.36) are served, as in the
	// local cluster: BackendTLSPolicies may name them.
	te.ControlPlane.GetAPIServer().Configure().
		Append("feature-gates", "ClusterTrustBundle=true").
		Append("runtime-config", "certificates.k8s.io/v1beta1/clustertrustbundles=true")
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest (KUBEBUILDER_ASSETS=%q) with CRDs from %s and %s: %w",
			os.Getenv("KUBEBUILDER_ASSETS"), ourDir, gwDir, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, ModuleRoot: root, env: te}, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	return e.env.Stop()
}

// checkAssets fails with a message naming the missing binaries and where they were looked for.
func checkAssets() error {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	where := "KUBEBUILDER_ASSETS=" + dir
	if dir == "" {
		dir, where = defaultAssetsDir, "KUBEBUILDER_ASSETS is not set; envtest's default directory "+defaultAssetsDir
	}
	var missing []string
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.IsDir() {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("envtest binaries missing: no %s in %s (%s); set KUBEBUILDER_ASSETS to a directory "+
			"holding kube-apiserver and etcd, e.g. the one `make envtest-assets` prepares",
			strings.Join(missing, " and no "), dir, where)
	}
	return nil
}

// ModuleRoot returns the directory of this module's go.mod, found from this source file.
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the testenv source file to find the module root")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root %s has no go.mod: %w", root, err)
	}
	return filepath.Clean(root), nil
}

// GatewayAPICRDDir returns the experimental-channel CRD directory of the gateway-api module
// this module requires, as `go list -m` resolves it in root.
func GatewayAPICRDDir(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", GatewayAPIModule)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s in %s: %w: %s", GatewayAPIModule, root, err, strings.TrimSpace(stderr.String()))
	}
	modDir := strings.TrimSpace(string(out))
	if modDir == "" {
		return "", fmt.Errorf("go list -m %s printed no directory: is the module downloaded (go mod download)?", GatewayAPIModule)
	}
	dir := filepath.Join(modDir, "config", "crd", "experimental")
	if _, err := os.Stat(filepath.Join(dir, "gateway.networking.k8s.io_gatewayclasses.yaml")); err != nil {
		return "", fmt.Errorf("gateway API CRDs not found in %s: %w", dir, err)
	}
	return dir, nil
}

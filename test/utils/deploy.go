package utils

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldOwner is the server-side apply field manager of objects the tests and the demo apply.
const FieldOwner = "caddy-gateway-tools"

// Image placeholders in config/manager; deployments substitute the real images.
const (
	OperatorImagePlaceholder = "controller:latest"
	CaddyImagePlaceholder    = "caddy:latest"
)

// RepoRoot returns the repository root, found from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PROJECT")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (the directory holding PROJECT) not found above the working directory")
		}
		dir = parent
	}
}

// Run runs a command in dir, returning its combined output in the error on failure.
func Run(ctx context.Context, dir string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

// RunShowing runs a command in dir like Run, and meanwhile prints each line of its output
// to w prefixed with the time elapsed since it started, so that a long step (building the
// local cluster takes up to 20 minutes on a new machine) shows its progress. A minute
// without output prints a line saying the step is still running.
func RunShowing(ctx context.Context, w io.Writer, dir string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); _ = pw.Close() }()
	elapsed := func() string { return time.Since(start).Truncate(time.Second).String() }
	quiet := time.NewTicker(time.Minute)
	defer quiet.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if err := <-done; err != nil {
					return fmt.Errorf("%s %s: %w (after %s)", name, strings.Join(args, " "), err, elapsed())
				}
				return nil
			}
			quiet.Reset(time.Minute)
			_, _ = fmt.Fprintf(w, "  [%7s] %s\n", elapsed(), l)
		case <-quiet.C:
			_, _ = fmt.Fprintf(w, "  [%7s] ... still running %s\n", elapsed(), filepath.Base(name))
		}
	}
}

// Kustomize renders a kustomization directory with the kustomize binary named by the
// KUSTOMIZE environment variable (the Makefile sets it), else "kustomize" on PATH.
func Kustomize(ctx context.Context, root, dir string) ([]*unstructured.Unstructured, error) {
	bin := os.Getenv("KUSTOMIZE")
	if bin == "" {
		bin = "kustomize"
	}
	out, err := Run(ctx, root, bin, "build", dir)
	if err != nil {
		return nil, err
	}
	return DecodeYAML(bytes.NewReader(out))
}

// DecodeYAML decodes a multi-document YAML stream into objects.
func DecodeYAML(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// SetImage replaces an image placeholder in the containers of Deployments in objs: in
// their image and in the values of their environment variables.
func SetImage(objs []*unstructured.Unstructured, placeholder, image string) {
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for i := range containers {
			c := containers[i].(map[string]any)
			if c["image"] == placeholder {
				c["image"] = image
			}
			env, _ := c["env"].([]any)
			for _, e := range env {
				if e := e.(map[string]any); e["value"] == placeholder {
					e["value"] = image
				}
			}
		}
		_ = unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers")
	}
}

// Apply server-side applies objs in order.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
		}
	}
	return nil
}

// Delete deletes objs in reverse order, ignoring those already gone.
func Delete(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	var errs []error
	for i := len(objs) - 1; i >= 0; i-- {
		if err := c.Delete(ctx, objs[i]); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("deleting %s %s: %w", objs[i].GetKind(), client.ObjectKeyFromObject(objs[i]), err))
		}
	}
	return errors.Join(errs...)
}

// LoadImage hands an image tarball to the command named by loader, e.g.
// "kind load image-archive" or "localcluster/image.sh import"; the tarball path is
// appended as the last argument.
func LoadImage(ctx context.Context, loader, tarball string) error {
	fields := strings.Fields(loader)
	if len(fields) == 0 {
		return errors.New("IMAGE_LOADER is empty: set it to the command that loads an image tarball into the cluster, " +
			`e.g. "kind load image-archive"`)
	}
	_, err := Run(ctx, "", fields[0], append(fields[1:], tarball)...)
	return err
}

// BuildOperatorImage builds the manager binary and its image tarball under dir.
func BuildOperatorImage(ctx context.Context, root, dir, tag string) (string, error) {
	return BuildBinaryImage(ctx, root, dir, "./cmd", "/manager", tag)
}

// BuildBinaryImage builds the Go package pkg and an image tarball under dir that runs it
// from path as a non-root user.
func BuildBinaryImage(ctx context.Context, root, dir, pkg, path, tag string) (string, error) {
	name := filepath.Base(path)
	bin := filepath.Join(dir, name)
	if err := runGoBuild(ctx, root, bin, pkg); err != nil {
		return "", err
	}
	tarball := filepath.Join(dir, name+"-image.tar")
	return tarball, BuildImageTarball(ImageOptions{
		Tag: tag, Files: map[string]string{path: bin}, Entrypoint: []string{path}, User: "65532:65532",
	}, tarball)
}

// BuildCaddyImage builds the data-plane binary (cmd/caddy) and its image tarball under
// dir. The host's CA bundle, when present, goes into the image for TLS to backends.
func BuildCaddyImage(ctx context.Context, root, dir, tag string) (string, error) {
	bin := filepath.Join(dir, "caddy")
	if err := runGoBuild(ctx, root, bin, "./cmd/caddy"); err != nil {
		return "", err
	}
	files := map[string]string{"/usr/bin/caddy": bin}
	if _, err := os.Stat(hostCABundle); err == nil {
		files[hostCABundle] = hostCABundle
	}
	tarball := filepath.Join(dir, "caddy-image.tar")
	return tarball, BuildImageTarball(ImageOptions{
		Tag: tag, Files: files, Entrypoint: []string{"/usr/bin/caddy"}, User: "65532:65532",
	}, tarball)
}

const hostCABundle = "/etc/ssl/certs/ca-certificates.crt"

func runGoBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=auto")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// InstallOptions describes an operator installation from config/default.
type InstallOptions struct {
	// Root is the repository root.
	Root string
	// Image is the operator image reference the cluster can run.
	Image string
	// CaddyImage is the data-plane image reference.
	CaddyImage string
	// Loader is the command that loads an image tarball into the cluster.
	Loader string
}

// InstallOperator builds and loads the operator image, applies config/default with the
// image substituted and waits until the operator Deployment is available. It returns the
// applied objects so callers can delete them.
func InstallOperator(ctx context.Context, c client.Client, o InstallOptions) ([]*unstructured.Unstructured, error) {
	dir := filepath.Join(o.Root, "bin", "images")
	operator, err := BuildOperatorImage(ctx, o.Root, dir, o.Image)
	if err != nil {
		return nil, err
	}
	caddy, err := BuildCaddyImage(ctx, o.Root, dir, o.CaddyImage)
	if err != nil {
		return nil, err
	}
	for _, tarball := range []string{operator, caddy} {
		if err := LoadImage(ctx, o.Loader, tarball); err != nil {
			return nil, err
		}
	}
	objs, err := Kustomize(ctx, o.Root, "config/default")
	if err != nil {
		return nil, err
	}
	SetImage(objs, OperatorImagePlaceholder, o.Image)
	SetImage(objs, CaddyImagePlaceholder, o.CaddyImage)
	if err := Apply(ctx, c, objs); err != nil {
		return objs, err
	}
	return objs, WaitDeploymentAvailable(ctx, c, OperatorNamespace, OperatorDeployment, 3*time.Minute)
}

// The operator's Deployment as config/default names it.
const (
	OperatorNamespace  = "caddy-gateway-system"
	OperatorDeployment = "caddy-gateway-controller-manager"
)

// OperatorPodLabels select the operator's pods.
var OperatorPodLabels = map[string]string{"control-plane": "controller-manager"}

// OperatorPods lists the operator's pods.
func OperatorPods(ctx context.Context, c client.Client) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := c.List(ctx, &pods, client.InNamespace(OperatorNamespace), client.MatchingLabels(OperatorPodLabels))
	return pods.Items, err
}

// WaitDeploymentAvailable polls a Deployment until its Available condition is True.
func WaitDeploymentAvailable(ctx context.Context, c client.Client, ns, name string, timeout time.Duration) error {
	var last appsv1.DeploymentStatus
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		last = d.Status
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("deployment %s/%s is not available (status %+v): %w", ns, name, last, err)
	}
	return nil
}

package utils

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldOwner is the server-side apply field manager of objects the tests and the demo apply.
const FieldOwner = "caddy-gateway-tools"

// OperatorImagePlaceholder is the image config/manager names; deployments substitute IMG.
const OperatorImagePlaceholder = "controller:latest"

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

// SetImage replaces the image placeholder of every container of Deployments in objs.
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
	bin := filepath.Join(dir, "manager")
	if _, err := runGoBuild(ctx, root, bin, "./cmd"); err != nil {
		return "", err
	}
	tarball := filepath.Join(dir, "manager-image.tar")
	return tarball, BuildImageTarball(ImageOptions{
		Tag: tag, Files: map[string]string{"/manager": bin}, Entrypoint: []string{"/manager"}, User: "65532:65532",
	}, tarball)
}

func runGoBuild(ctx context.Context, root, out, pkg string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=auto")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return b, fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return b, nil
}

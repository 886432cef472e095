//go:build e2e

package olm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/bundle"
	"github.com/caddy-gateway/operator/test/utils"
)

// release is one version of the operator as the test publishes it.
type release struct {
	version, replaces, skipRange string
	operatorImage, caddyImage    string
	bundleImage                  string
}

func (r release) csvName() string { return bundle.CSVName(packageName, r.version) }

// publishBundle pushes the release's operator and Caddy images (the same binaries under the
// release's tags), generates its bundle from config/manifests as `make bundle` does and
// pushes the bundle image.
func publishBundle(ctx context.Context, t *testing.T, r release, operatorTar, caddyTar string) {
	t.Helper()
	for tar, ref := range map[string]string{operatorTar: r.operatorImage, caddyTar: r.caddyImage} {
		if err := utils.PushTarball(ctx, tar, ref); err != nil {
			t.Fatal(err)
		}
	}
	root := repoRoot(t)
	out, err := utils.Run(ctx, root, kustomizeBin(), "build", "config/manifests")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := bundle.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	opts := bundle.Options{
		Package: packageName, Version: r.version, Replaces: r.replaces, SkipRange: r.skipRange,
		Channels: []string{channel}, DefaultChannel: channel,
		OperatorImage: r.operatorImage, CaddyImage: r.caddyImage,
	}
	files, err := bundle.Generate(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle-"+r.version)
	if err := bundle.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	img := utils.ImageOptions{Files: map[string]string{}, Labels: map[string]string{}}
	for _, f := range files {
		img.Files["/"+f.Path] = filepath.Join(dir, filepath.FromSlash(f.Path))
	}
	for _, l := range bundle.Labels(opts) {
		img.Labels[l[0]] = l[1]
	}
	if err := buildAndPush(ctx, img, nil, r.bundleImage); err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed %s (%s, replaces %q, skipRange %q)", r.bundleImage, r.csvName(), r.replaces, r.skipRange)
}

// publishCatalog renders the bundles with opm into a file-based catalog with one channel
// holding releases in order (each entry replacing the previous one) and pushes an
// `opm serve` image of it built on the catalog base image.
func publishCatalog(ctx context.Context, t *testing.T, ref string, releases ...release) {
	t.Helper()
	tmp := t.TempDir()
	// opm pulls through containers/image, which wants a signature policy.
	policy := filepath.Join(tmp, "home", ".config", "containers", "policy.json")
	if err := os.MkdirAll(filepath.Dir(policy), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var fbc strings.Builder
	fmt.Fprintf(&fbc, "schema: olm.package\nname: %s\ndefaultChannel: %s\n", packageName, channel)
	entries := fmt.Sprintf("---\nschema: olm.channel\npackage: %s\nname: %s\nentries:\n", packageName, channel)
	for _, r := range releases {
		out, err := opm(ctx, filepath.Join(tmp, "home"), "render", r.bundleImage, "--use-http", "-o", "yaml")
		if err != nil {
			t.Fatal(err)
		}
		fbc.WriteString("---\n")
		fbc.Write(out)
		entries += fmt.Sprintf("- name: %s\n", r.csvName())
		if r.replaces != "" {
			entries += fmt.Sprintf("  replaces: %s\n", bundle.CSVName(packageName, r.replaces))
		}
		if r.skipRange != "" {
			entries += fmt.Sprintf("  skipRange: %q\n", r.skipRange)
		}
	}
	fbc.WriteString(entries)
	catalog := filepath.Join(tmp, "configs", packageName, "catalog.yaml")
	if err := os.MkdirAll(filepath.Dir(catalog), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(catalog, []byte(fbc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := opm(ctx, filepath.Join(tmp, "home"), "validate", filepath.Join(tmp, "configs")); err != nil {
		t.Fatal(err)
	}
	base, err := utils.PullImage(ctx, envOr("CATALOG_BASE_IMG", "quay.io/operator-framework/opm:latest"))
	if err != nil {
		t.Fatal(err)
	}
	img := utils.ImageOptions{
		Files:      map[string]string{"/configs/" + packageName + "/catalog.yaml": catalog},
		Entrypoint: []string{"/bin/opm"}, Cmd: []string{"serve", "/configs"},
		Labels: map[string]string{"operators.operatorframework.io.index.configs.v1": "/configs"},
	}
	if err := buildAndPush(ctx, img, base, ref); err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed catalog %s with %d bundle(s)", ref, len(releases))
}

func opm(ctx context.Context, home string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, envOr("OPM", "opm"), args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("opm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

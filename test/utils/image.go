// Package utils holds helpers shared by the e2e suite, the demo and the Makefile: building
// container images without a container engine and loading them into a cluster.
package utils

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ImageOptions describes a single-layer image built from local files.
type ImageOptions struct {
	// Tag is the image reference the tarball carries, e.g. localhost/caddy-gateway-operator:dev.
	Tag string
	// Files maps paths in the image to local source files; mode bits are kept.
	Files map[string]string
	// Entrypoint of the image.
	Entrypoint []string
	// User the image runs as, e.g. "65532:65532".
	User string
	// Env of the image, as KEY=VALUE.
	Env []string
	// Cmd of the image (the entrypoint's default arguments).
	Cmd []string
	// Labels of the image.
	Labels map[string]string
}

// BuildImageTarball writes a docker-archive tarball (what `docker save`, `kind load
// image-archive` and `ctr images import` read) of the image described by o to out.
// The layer has fixed timestamps, so the same inputs give the same image.
func BuildImageTarball(o ImageOptions, out string) error {
	ref, err := name.NewTag(o.Tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", o.Tag, err)
	}
	img, err := BuildImage(o, empty.Image)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, ref, img)
}

// BuildImage is base with one layer holding o.Files on top and o's configuration. Env
// and Labels are added to the base's, the other fields replace them when set.
func BuildImage(o ImageOptions, base v1.Image) (v1.Image, error) {
	layerTar, err := tarFiles(o.Files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("building layer: %w", err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	if o.Entrypoint != nil {
		cfg.Config.Entrypoint = o.Entrypoint
	}
	if o.Cmd != nil {
		cfg.Config.Cmd = o.Cmd
	}
	if o.User != "" {
		cfg.Config.User = o.User
	}
	if len(cfg.Config.Env) == 0 {
		cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	}
	cfg.Config.Env = append(cfg.Config.Env, o.Env...)
	for k, v := range o.Labels {
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		cfg.Config.Labels[k] = v
	}
	return mutate.ConfigFile(img, cfg)
}

// tarFiles packs the files, and the directories above them, into a tar stream.
func tarFiles(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dests := make([]string, 0, len(files))
	for d := range files {
		dests = append(dests, d)
	}
	slices.Sort(dests)
	dirs := map[string]bool{}
	epoch := time.Unix(0, 0)
	for _, dest := range dests {
		clean := strings.TrimPrefix(path.Clean("/"+dest), "/")
		for dir := path.Dir(clean); dir != "." && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch}); err != nil {
				return nil, err
			}
		}
		data, err := os.ReadFile(files[dest])
		if err != nil {
			return nil, fmt.Errorf("image file %s: %w", dest, err)
		}
		st, err := os.Stat(files[dest])
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: clean, Mode: int64(st.Mode().Perm()), Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

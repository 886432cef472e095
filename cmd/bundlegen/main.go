// Command bundlegen writes the operator's OLM bundle from `kustomize build config/manifests`
// on standard input (what operator-sdk's `generate bundle` does, without operator-sdk):
//
//	kustomize build config/manifests | bundlegen -version 0.1.0 -image IMG -caddy-image CADDY_IMG
//
// It replaces bundle/manifests, bundle/metadata and bundle/tests and writes bundle.Dockerfile.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/caddy-gateway/operator/internal/bundle"
)

func main() {
	var o bundle.Options
	var channels string
	dir := flag.String("dir", "bundle", "bundle directory")
	dockerfile := flag.String("dockerfile", "bundle.Dockerfile", "bundle image Dockerfile to write (the build context is its directory)")
	flag.StringVar(&o.Package, "package", "caddy-gateway-operator", "OLM package name")
	flag.StringVar(&o.Version, "version", "", "bundle version, e.g. 0.1.0")
	flag.StringVar(&o.Replaces, "replaces", "", "version this bundle upgrades from (spec.replaces)")
	flag.StringVar(&o.SkipRange, "skip-range", "", "olm.skipRange, e.g. '>=0.1.0 <0.2.0'")
	flag.StringVar(&channels, "channels", "candidate", "comma-separated channels")
	flag.StringVar(&o.DefaultChannel, "default-channel", "candidate", "default channel")
	flag.StringVar(&o.OperatorImage, "image", "", "operator image")
	flag.StringVar(&o.CaddyImage, "caddy-image", "", "Caddy image")
	flag.Parse()
	o.Channels = strings.Split(channels, ",")
	if err := run(o, *dir, *dockerfile); err != nil {
		fmt.Fprintln(os.Stderr, "bundlegen:", err)
		os.Exit(1)
	}
}

func run(o bundle.Options, dir, dockerfile string) error {
	objs, err := bundle.Decode(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading the manifests on standard input: %w", err)
	}
	files, err := bundle.Generate(objs, o)
	if err != nil {
		return err
	}
	if err := bundle.Write(dir, files); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(dockerfile), dir)
	if err != nil {
		return err
	}
	return os.WriteFile(dockerfile, bundle.Dockerfile(o, filepath.ToSlash(rel)), 0o644)
}

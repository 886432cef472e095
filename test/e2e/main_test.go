//go:build e2e

// Package e2e runs the operator in a real cluster: it builds the operator image without a
// container engine, loads it with IMAGE_LOADER, deploys config/default and checks the
// behaviour users see. Any cluster works through KUBECONFIG:
//
//	KUBECONFIG=... IMAGE_LOADER="kind load image-archive" make test-e2e
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/envfuncs"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/test/utils"
)

var (
	testenv env.Environment
	// installed holds the objects of config/default, deleted at the end.
	installed []*unstructured.Unstructured
)

func TestMain(m *testing.M) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "e2e: KUBECONFIG is not set; point it at the cluster to test")
		os.Exit(1)
	}
	cfg := envconf.NewWithKubeConfig(kubeconfig)
	testenv = env.NewWithConfig(cfg)
	ns := envconf.RandomName("e2e", 10)
	testenv.Setup(registerSchemes, deployOperator, envfuncs.CreateNamespace(ns))
	testenv.Finish(envfuncs.DeleteNamespace(ns), undeployOperator)
	os.Exit(testenv.Run(m))
}

func registerSchemes(ctx context.Context, cfg *envconf.Config) (context.Context, error) {
	s := cfg.Client().Resources().GetScheme()
	if err := gwapiv1.Install(s); err != nil {
		return ctx, err
	}
	return ctx, v1alpha1.AddToScheme(s)
}

// deployOperator builds and loads the images of the operator and of the test backends
// (the probe and the conformance suite's echo-basic) and installs config/default.
func deployOperator(ctx context.Context, cfg *envconf.Config) (context.Context, error) {
	root, err := utils.RepoRoot()
	if err != nil {
		return ctx, err
	}
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	for _, b := range []struct{ pkg, path, tag string }{
		{"./test/probe", "/probe", utils.ProbeImage},
		{utils.EchoBasicPackage, "/echo-basic", utils.EchoBasicImage},
	} {
		tarball, err := utils.BuildBinaryImage(ctx, root, filepath.Join(root, "bin", "images"), b.pkg, b.path, b.tag)
		if err != nil {
			return ctx, err
		}
		if err := utils.LoadImage(ctx, os.Getenv("IMAGE_LOADER"), tarball); err != nil {
			return ctx, err
		}
	}
	installed, err = utils.InstallOperator(ctx, c, utils.InstallOptions{
		Root: root, Image: envOr("IMG", "localhost/caddy-gateway-operator:dev"),
		CaddyImage: envOr("CADDY_IMG", "localhost/caddy-gateway-caddy:dev"), Loader: os.Getenv("IMAGE_LOADER"),
	})
	return ctx, err
}

func undeployOperator(ctx context.Context, cfg *envconf.Config) (context.Context, error) {
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	return ctx, utils.Delete(ctx, c, installed)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// deleteAll deletes objects a feature created, ignoring those already gone.
func deleteAll(ctx context.Context, t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

//go:build e2e

// Package olm installs the operator the way OLM users do, in a real cluster that runs OLM
// and pulls from a registry this machine can push to (OLM_REGISTRY, plain http): it pushes
// the operator, Caddy and bundle images, serves a file-based catalog, subscribes, routes a
// request through a Gateway, then upgrades to the next bundle version while that Gateway
// keeps serving. Everything it installs is removed at the end.
//
//	KUBECONFIG=... OLM_REGISTRY=127.0.0.1:5000 OPM=opm make test-olm
package olm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/operator-framework/api/pkg/manifests"

	"github.com/caddy-gateway/operator/test/utils"
)

const (
	packageName = "caddy-gateway-operator"
	channel     = "candidate"
	// installNamespace holds the operator, its global OperatorGroup and the CatalogSource.
	installNamespace = "caddy-gateway-olm"
	pollTimeout      = 3 * time.Minute
)

func TestInstallAndUpgradeThroughOLM(t *testing.T) {
	reg := os.Getenv("OLM_REGISTRY")
	if reg == "" {
		t.Fatal("OLM_REGISTRY is not set: name the registry the cluster pulls from, e.g. 127.0.0.1:5000")
	}
	ctx := context.Background()
	c := newClient(t)
	root := repoRoot(t)

	// The committed bundle's version is installed first, then the next patch version.
	committed, err := manifests.GetBundleFromDir(filepath.Join(root, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	from := committed.CSV.Spec.Version.Version
	to := from
	to.Patch++
	to.Pre = nil
	first := newRelease(reg, from, "", "")
	next := newRelease(reg, to, from.String(), fmt.Sprintf(">=%s <%s", from, to))

	dir := filepath.Join(root, "bin", "images")
	operatorTar, err := utils.BuildOperatorImage(ctx, root, dir, first.operatorImage)
	if err != nil {
		t.Fatal(err)
	}
	caddyTar, err := utils.BuildCaddyImage(ctx, root, dir, first.caddyImage)
	if err != nil {
		t.Fatal(err)
	}
	probeTar, err := utils.BuildBinaryImage(ctx, root, dir, "./test/probe", "/probe", utils.ProbeImage)
	if err != nil {
		t.Fatal(err)
	}
	probeImage := reg + "/caddy-gateway-probe:dev"
	if err := utils.PushTarball(ctx, probeTar, probeImage); err != nil {
		t.Fatal(err)
	}

	publishBundle(ctx, t, first, operatorTar, caddyTar)
	catalogV1 := reg + "/caddy-gateway-operator-catalog:1"
	publishCatalog(ctx, t, catalogV1, first)

	start := time.Now()
	uninstallOnCleanup(t, c)
	subscribe(ctx, t, c, catalogV1)
	waitCSVSucceeded(ctx, t, c, first.csvName())
	t.Logf("installed %s through OLM in %s", first.csvName(), time.Since(start).Round(time.Second))
	checkOperatorImages(ctx, t, c, first)

	gw := deployGateway(ctx, t, c, probeImage)
	t.Logf("a request through Gateway %s answered 200", gw.name)

	// Upgrade: the next bundle enters the catalog; OLM replaces the CSV, which rolls the
	// operator, which rolls the Caddy fleet to the new Caddy image. Traffic never stops.
	publishBundle(ctx, t, next, operatorTar, caddyTar)
	catalogV2 := reg + "/caddy-gateway-operator-catalog:2"
	publishCatalog(ctx, t, catalogV2, first, next)
	traffic := startTraffic(ctx, gw)
	start = time.Now()
	switchCatalog(ctx, t, c, catalogV2)
	waitCSVSucceeded(ctx, t, c, next.csvName())
	waitCSVGone(ctx, t, c, first.csvName())
	checkOperatorImages(ctx, t, c, next)
	waitFleetImage(ctx, t, c, gw, next.caddyImage)
	t.Logf("upgraded to %s in %s (Caddy fleet rolled to %s)", next.csvName(), time.Since(start).Round(time.Second), next.caddyImage)
	time.Sleep(3 * time.Second)
	sent, failures := traffic.stop()
	t.Logf("during the upgrade: %d requests, %d failed", sent, len(failures))
	if sent < 20 {
		t.Errorf("only %d requests were sent during the upgrade", sent)
	}
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... %d failures in all", len(failures))
			break
		}
		t.Errorf("request during the upgrade failed: %s", f)
	}

	// The upgraded operator still reconciles: a new route gets traffic.
	addRouteAndExpect200(ctx, t, c, gw)
}

func newRelease(reg string, v semver.Version, replaces, skipRange string) release {
	tag := "v" + v.String()
	return release{
		version: v.String(), replaces: replaces, skipRange: skipRange,
		operatorImage: reg + "/caddy-gateway-operator:" + tag,
		caddyImage:    reg + "/caddy-gateway-caddy:" + tag,
		bundleImage:   reg + "/caddy-gateway-operator-bundle:" + tag,
	}
}

func buildAndPush(ctx context.Context, o utils.ImageOptions, base v1.Image, ref string) error {
	if base == nil {
		base = empty.Image
	}
	img, err := utils.BuildImage(o, base)
	if err != nil {
		return err
	}
	return utils.PushImage(ctx, img, ref)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := utils.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func kustomizeBin() string { return envOr("KUSTOMIZE", "kustomize") }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

//go:build e2e

package e2e

import (
	"context"
	"testing"

	"sigs.k8s.io/e2e-framework/pkg/envconf"

	"github.com/caddy-gateway/operator/test/utils"
)

// runProbe runs a probe pod (no labels any policy selects) that opens TCP connections to
// addrs and returns its report.
func runProbe(ctx context.Context, t *testing.T, cfg *envconf.Config, addrs ...string) string {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	pod := utils.ProbePod(cfg.Namespace(), envconf.RandomName("probe", 12), addrs...)
	out, err := utils.RunProbePod(ctx, c, cfg.Client().RESTConfig(), pod, pollTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

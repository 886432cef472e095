//go:build conformance

package conformance

import (
	"flag"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"

	"github.com/caddy-gateway/operator/test/utils"
)

// EchoImage is the reference the suite's manifests give its echo-basic backends; the
// image built from source is loaded under it. Some manifests name a newer tag of the same
// program (v0.2.0, a UDP echo), which the module proxy does not serve: manifests are handed
// to the suite with every echo-basic reference rewritten to this one.
const EchoImage = "registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0"

// UsableAddress is a free cluster IP of the local cluster (Service CIDR 10.96.0.0/16): it
// lies in the band of the range the API server hands out only on request (the lowest 256
// addresses of a /16), which no other Service of the suite requests.
const UsableAddress = "10.96.0.77"

// UnusableAddress is the API server's own cluster IP, the first of the Service CIDR: the
// "kubernetes" Service always holds it, so the API server refuses it to any other Service.
const UnusableAddress = "10.96.0.1"

func ipAddress(v string) gwapiv1.GatewaySpecAddress {
	return gwapiv1.GatewaySpecAddress{Type: ptr.To(gwapiv1.IPAddressType), Value: v}
}

const echoRepository = "registry.k8s.io/gateway-api/conformance/echo-basic:"

// defaultProfiles are the conformance profiles run when --conformance-profiles is not given.
var defaultProfiles = []suite.ConformanceProfileName{
	suite.GatewayHTTPConformanceProfileName, suite.GatewayGRPCConformanceProfileName,
	suite.GatewayTLSConformanceProfileName, suite.GatewayTCPConformanceProfileName, suite.GatewayUDPConformanceProfileName,
}

// TestConformance runs the suite. Features come from the GatewayClass's
// status.supportedFeatures unless --supported-features, --all-features or --run-test say
// otherwise; the report goes to bin/conformance-report.yaml unless --report-output is set.
func TestConformance(t *testing.T) {
	opts := conformance.DefaultOptions(t)
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["conformance-profiles"] {
		opts.ConformanceProfiles = defaultProfiles
	}
	if !set["timeout-config-overrides"] {
		// Caddy pods drain for up to their termination grace period (60s by default) before
		// the suite's namespace is gone; the suite's default of 30s cuts that short.
		opts.TimeoutConfig.DeleteTimeout = 2 * time.Minute
	}
	// GatewayStaticAddresses: the suite's Gateway runs on a ClusterIP Service (main_test.go),
	// so its addresses are cluster IPs of the local cluster's Service CIDR, 10.96.0.0/16.
	if !set["usable-address"] {
		opts.UsableNetworkAddresses = []gwapiv1.GatewaySpecAddress{ipAddress(UsableAddress)}
	}
	if !set["unusable-address"] {
		opts.UnusableNetworkAddresses = []gwapiv1.GatewaySpecAddress{ipAddress(UnusableAddress)}
	}
	if !set["report-output"] {
		root, err := utils.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		opts.ReportOutputPath = filepath.Join(root, "bin", "conformance-report.yaml")
	}
	if !set["organization"] {
		opts.Implementation = confv1.Implementation{
			Organization: "caddy-gateway",
			Project:      "operator",
			URL:          "https://github.com/caddy-gateway/operator",
			Version:      envOr("VERSION", "dev"),
			Contact:      []string{"https://github.com/caddy-gateway/operator/issues"},
		}
	}
	manifests, err := rewriteImages(conformance.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	opts.ManifestFS = []fs.FS{manifests}
	conformance.RunConformanceWithOptions(t, opts)
}

// rewriteImages copies the YAML files of src into memory with every echo-basic image
// reference replaced by EchoImage.
func rewriteImages(src fs.FS) (fs.FS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".yaml") {
			data = []byte(rewriteEcho(string(data)))
		}
		out[path] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	})
	return out, err
}

// rewriteEcho replaces the tag of every echo-basic reference in s with EchoImage's.
func rewriteEcho(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, echoRepository)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(EchoImage)
		s = s[i+len(echoRepository):]
		end := strings.IndexAny(s, " \t\r\n\"'")
		if end < 0 {
			end = len(s)
		}
		s = s[end:]
	}
}

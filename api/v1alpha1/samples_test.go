package v1alpha1_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
)

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// TestSamplesAreAccepted creates every CaddyProxyConfig of config/samples and checks that
// the API server stores it unchanged and that it passes the operator's own validation.
func TestSamplesAreAccepted(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(env.ModuleRoot, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]v1alpha1.CaddyProxyConfig{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if head.APIVersion != v1alpha1.GroupVersion.String() || head.Kind != v1alpha1.KindCaddyProxyConfig {
				continue
			}
			var cpc v1alpha1.CaddyProxyConfig
			if err := yaml.UnmarshalStrict([]byte(doc), &cpc); err != nil {
				t.Fatalf("%s document %d does not fit the Go types: %v", f, i, err)
			}
			samples[filepath.Base(f)+"#"+cpc.Name] = cpc
		}
	}
	if len(samples) == 0 {
		t.Fatalf("no CaddyProxyConfig found in %d files of config/samples", len(files))
	}
	for name, sample := range samples {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := sample.Spec.DeepCopy()
			obj := sample.DeepCopy()
			obj.Namespace = testNS
			obj.Name = objectName(t)
			if err := env.Client.Create(ctxFor(t), obj); err != nil {
				t.Fatalf("the API server rejected sample %s: %v", name, err)
			}
			if !equality.Semantic.DeepEqual(&obj.Spec, want) {
				t.Errorf("the API server changed sample %s:\nsent %+v\ngot  %+v", name, want, obj.Spec)
			}
			if err := params.Validate(&obj.Spec); err != nil {
				t.Errorf("sample %s fails the operator's validation: %v", name, err)
			}
		})
	}
}

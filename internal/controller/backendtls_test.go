package controller

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestServedBackendTLSAPIs: each of the two APIs is used only when the cluster serves
// it; one not served is left out with a log line that names it, not an error.
func TestServedBackendTLSAPIs(t *testing.T) {
	cases := map[string]struct {
		kinds    []schema.GroupVersionKind
		want     backendTLSAPIs
		wantLogs []string
	}{
		"both served": {
			kinds: []schema.GroupVersionKind{backendTLSPolicyGVK, clusterTrustBundleGVK},
			want:  backendTLSAPIs{policies: true, trustBundles: true},
		},
		"no ClusterTrustBundles": {
			kinds:    []schema.GroupVersionKind{backendTLSPolicyGVK},
			want:     backendTLSAPIs{policies: true},
			wantLogs: []string{`"ClusterTrustBundle not served: the API server does not serve its beta API"`},
		},
		"neither": {
			wantLogs: []string{`"BackendTLSPolicy not served: its CRD is not installed"`, `"kind"="ClusterTrustBundle"`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mapper := meta.NewDefaultRESTMapper(nil)
			for _, gvk := range tc.kinds {
				mapper.Add(gvk, meta.RESTScopeRoot)
			}
			var logs strings.Builder
			log := funcr.New(func(prefix, args string) { logs.WriteString(args + "\n") }, funcr.Options{})
			got, err := servedBackendTLSAPIs(mapper, log)
			if err != nil {
				t.Fatalf("servedBackendTLSAPIs: %v", err)
			}
			if got != tc.want {
				t.Errorf("served = %+v, want %+v", got, tc.want)
			}
			for _, want := range tc.wantLogs {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs %q lack %s", logs.String(), want)
				}
			}
			if len(tc.wantLogs) == 0 && logs.Len() > 0 {
				t.Errorf("unexpected logs %q", logs.String())
			}
		})
	}
}

package gatewayapi_test

import (
	"testing"

	"sigs.k8s.io/gateway-api/pkg/consts"

	"github.com/caddy-gateway/operator/internal/gatewayapi"
)

func TestCheckBundleVersion(t *testing.T) {
	const missing = "the installed Gateway API CRDs carry no gateway.networking.k8s.io/bundle-version annotation; supported: v1.7.x"
	tests := map[string]struct {
		annotations map[string]string
		wantOK      bool
		wantMessage string
	}{
		"v1.7.0": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.7.0"},
			wantOK:      true,
			wantMessage: "the installed Gateway API CRDs are v1.7.0; this controller supports v1.7.x",
		},
		"v1.7.3": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.7.3"},
			wantOK:      true,
			wantMessage: "the installed Gateway API CRDs are v1.7.3; this controller supports v1.7.x",
		},
		"v1.6.1": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.6.1"},
			wantMessage: "the installed Gateway API CRDs are v1.6.1; this controller supports v1.7.x",
		},
		"v1.8.0": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.8.0"},
			wantMessage: "the installed Gateway API CRDs are v1.8.0; this controller supports v1.7.x",
		},
		"v2.7.0": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v2.7.0"},
			wantMessage: "the installed Gateway API CRDs are v2.7.0; this controller supports v1.7.x",
		},
		"v1.17.0 is not v1.7": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.17.0"},
			wantMessage: "the installed Gateway API CRDs are v1.17.0; this controller supports v1.7.x",
		},
		"no annotations": {wantMessage: missing},
		"other annotations only": {
			annotations: map[string]string{"gateway.networking.k8s.io/channel": "experimental"},
			wantMessage: missing,
		},
		"empty annotation": {
			annotations: map[string]string{consts.BundleVersionAnnotation: ""},
			wantMessage: missing,
		},
		"garbage": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "latest"},
			wantMessage: `the installed Gateway API CRDs have version "latest", which is not a semantic version; supported: v1.7.x`,
		},
		"wildcard patch": {
			annotations: map[string]string{consts.BundleVersionAnnotation: "v1.7.x"},
			wantMessage: `the installed Gateway API CRDs have version "v1.7.x", which is not a semantic version; supported: v1.7.x`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, msg := gatewayapi.CheckBundleVersion(tc.annotations)
			if ok != tc.wantOK || msg != tc.wantMessage {
				t.Errorf("CheckBundleVersion(%v) = %t, %q; want %t, %q", tc.annotations, ok, msg, tc.wantOK, tc.wantMessage)
			}
		})
	}
}

// Package features holds the Gateway API features the operator advertises in
// GatewayClass status.supportedFeatures. A feature is listed here only once a data-plane
// test proves it through a real Caddy; the list is data, sorted, never computed at runtime.
package features

import (
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// supported is the set of features with passing data-plane tests. Translation of routes
// lands feature by feature; each entry joins this list with the test that proves it.
var supported = []gwapiv1.FeatureName{}

// Supported returns the advertised features, sorted by name.
func Supported() []gwapiv1.SupportedFeature {
	names := slices.Clone(supported)
	slices.Sort(names)
	out := make([]gwapiv1.SupportedFeature, 0, len(names))
	for _, n := range names {
		out = append(out, gwapiv1.SupportedFeature{Name: n})
	}
	return out
}

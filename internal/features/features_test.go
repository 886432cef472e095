package features

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	gwfeatures "sigs.k8s.io/gateway-api/pkg/features"
)

func names(fs []gwapiv1.SupportedFeature) []gwapiv1.FeatureName {
	out := make([]gwapiv1.FeatureName, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// TestSupportedData checks the advertised list itself: sorted, without duplicates, and
// never nil so that it always serialises.
func TestSupportedData(t *testing.T) {
	got := Supported()
	if got == nil {
		t.Fatal("Supported() returned nil")
	}
	n := names(got)
	if !slices.IsSorted(n) {
		t.Errorf("Supported() is not sorted: %v", n)
	}
	if len(slices.Compact(slices.Clone(n))) != len(n) {
		t.Errorf("Supported() has duplicates: %v", n)
	}
	if len(got) != len(supported) {
		t.Errorf("Supported() has %d features, the data %d", len(got), len(supported))
	}
}

// TestSupportedSorts swaps in other data to show that Supported sorts by name and leaves
// the data untouched. It must not run in parallel: it replaces the package variable.
func TestSupportedSorts(t *testing.T) {
	tests := map[string]struct {
		data []gwapiv1.FeatureName
		want []gwapiv1.FeatureName
	}{
		"empty": {data: []gwapiv1.FeatureName{}, want: []gwapiv1.FeatureName{}},
		"unsorted": {
			data: []gwapiv1.FeatureName{"HTTPRouteQueryParamMatching", "Gateway", "HTTPRoute", "GatewayPort8080"},
			want: []gwapiv1.FeatureName{"Gateway", "GatewayPort8080", "HTTPRoute", "HTTPRouteQueryParamMatching"},
		},
		"already sorted": {
			data: []gwapiv1.FeatureName{"Gateway", "HTTPRoute"},
			want: []gwapiv1.FeatureName{"Gateway", "HTTPRoute"},
		},
	}
	saved := supported
	t.Cleanup(func() { supported = saved })
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			supported = slices.Clone(tc.data)
			got := names(Supported())
			if !slices.Equal(got, tc.want) {
				t.Errorf("Supported() = %v, want %v", got, tc.want)
			}
			if !slices.Equal(supported, tc.data) {
				t.Errorf("Supported() reordered the data: %v, was %v", supported, tc.data)
			}
		})
	}
}

// TestSupportedKnown: every advertised name is a feature of the Gateway API release the
// operator implements, so a typo cannot advertise nothing.
func TestSupportedKnown(t *testing.T) {
	known := gwfeatures.SetsToNamesSet(gwfeatures.AllFeatures)
	for _, f := range Supported() {
		if !known.Has(gwfeatures.FeatureName(f.Name)) {
			t.Errorf("%s is not a Gateway API feature", f.Name)
		}
	}
}

// TestSupportedCoversProfiles: every core feature of the conformance profiles make
// conformance runs by default is advertised, so the suite runs each profile's core tests.
func TestSupportedCoversProfiles(t *testing.T) {
	advertised := map[gwapiv1.FeatureName]bool{}
	for _, f := range Supported() {
		advertised[f.Name] = true
	}
	for _, p := range []suite.ConformanceProfile{
		suite.GatewayHTTPConformanceProfile, suite.GatewayGRPCConformanceProfile,
		suite.GatewayTLSConformanceProfile, suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile,
	} {
		for _, f := range sets.List(p.CoreFeatures) {
			if !advertised[gwapiv1.FeatureName(f)] {
				t.Errorf("%s: core feature %s is not advertised", p.Name, f)
			}
		}
	}
}

// notAdvertised are the extended features of the default conformance profiles the
// operator does not advertise, each with the reason; a feature joining Supported leaves
// this list.
var notAdvertised = map[gwfeatures.FeatureName]string{}

// TestSupportedCoversExtended: every extended feature of the default conformance
// profiles is either advertised or named in notAdvertised with its reason, never both,
// so that a feature is left out on purpose.
func TestSupportedCoversExtended(t *testing.T) {
	advertised := map[gwfeatures.FeatureName]bool{}
	for _, f := range Supported() {
		advertised[gwfeatures.FeatureName(f.Name)] = true
	}
	for _, p := range []suite.ConformanceProfile{
		suite.GatewayHTTPConformanceProfile, suite.GatewayGRPCConformanceProfile,
		suite.GatewayTLSConformanceProfile, suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile,
	} {
		for _, f := range sets.List(p.ExtendedFeatures) {
			_, left := notAdvertised[f]
			switch {
			case advertised[f] && left:
				t.Errorf("%s: %s is advertised and listed as not advertised", p.Name, f)
			case !advertised[f] && !left:
				t.Errorf("%s: extended feature %s is neither advertised nor listed as not advertised", p.Name, f)
			}
		}
	}
}

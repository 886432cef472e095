// Package gatewayapi holds facts about the Gateway API this operator implements: the
// supported release and how to read the release of the CRDs installed in a cluster.
// It performs no I/O.
package gatewayapi

import (
	"fmt"

	"golang.org/x/mod/semver"
	"sigs.k8s.io/gateway-api/pkg/consts"
)

// SupportedMinor is the Gateway API release line this operator is built and tested for.
const SupportedMinor = "v1.7"

// GatewayClassCRD is the name of the CRD whose bundle-version annotation tells the
// installed Gateway API release.
const GatewayClassCRD = "gatewayclasses.gateway.networking.k8s.io"

// CheckBundleVersion reads the bundle-version annotation of an installed Gateway API CRD
// and reports whether that release is supported, with a message naming both releases.
func CheckBundleVersion(annotations map[string]string) (bool, string) {
	installed, ok := annotations[consts.BundleVersionAnnotation]
	if !ok || installed == "" {
		return false, fmt.Sprintf("the installed Gateway API CRDs carry no %s annotation; supported: %s.x",
			consts.BundleVersionAnnotation, SupportedMinor)
	}
	if !semver.IsValid(installed) {
		return false, fmt.Sprintf("the installed Gateway API CRDs have version %q, which is not a semantic version; supported: %s.x",
			installed, SupportedMinor)
	}
	if semver.MajorMinor(installed) != SupportedMinor {
		return false, fmt.Sprintf("the installed Gateway API CRDs are %s; this controller supports %s.x", installed, SupportedMinor)
	}
	return true, fmt.Sprintf("the installed Gateway API CRDs are %s; this controller supports %s.x", installed, SupportedMinor)
}

// Package features holds the Gateway API features the operator advertises in
// GatewayClass status.supportedFeatures: exactly the features whose tests pass in the
// Gateway API v1.7.0 conformance suite (make conformance, GATEWAY-HTTP, GATEWAY-GRPC,
// GATEWAY-TLS, GATEWAY-TCP and GATEWAY-UDP profiles), never more. The list is data, sorted, never
// computed at runtime; the suite reads it back from the GatewayClass to choose what it tests.
package features

import (
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// supported: a feature joins only together with a conformance run that passes its tests,
// or, for a feature the v1.7.0 suite has no test of, with a real-cluster test of ours:
// ClusterTrustBundle (e2e TestBackendTLSPolicy: a policy's CA from a ClusterTrustBundle
// verifies the backend, and a change of the bundle is followed); GatewayListenerFilters
// (e2e TestListenerFiltersAndDestinationPort); GatewayAddressRoutability and
// GatewayAddressRoutabilityCluster (envtest TestGatewayAddressRoutability: a cluster-only
// request gets a ClusterIP Service, status reports Cluster and the conformance sentinel, an
// unsupported routability is not assigned; e2e TestGatewayAddresses: the cluster IP serves).
// Not listed (their tests are not run): the Mesh features.
var supported = []gwapiv1.FeatureName{
	// Core of the GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS, GATEWAY-TCP and GATEWAY-UDP profiles.
	"Gateway", "GRPCRoute", "HTTPRoute", "ReferenceGrant", "TCPRoute", "TLSRoute", "UDPRoute",
	// BackendTLSPolicy (extended in the GATEWAY-HTTP, GATEWAY-GRPC and GATEWAY-TLS profiles).
	"BackendTLSPolicy",
	"BackendTLSPolicySANValidation",
	"ClusterTrustBundle",
	// Gateway extended.
	"GatewayAddressEmpty",
	"GatewayAddressRoutability",
	"GatewayAddressRoutabilityCluster",
	"GatewayBackendClientCertificate",
	"GatewayFrontendClientCertificateValidation",
	"GatewayFrontendClientCertificateValidationInsecureFallback",
	"GatewayHTTPListenerIsolation",
	"GatewayHTTPSListenerDetectMisdirectedRequests",
	"GatewayInfrastructure",
	// GatewayListenerFilters: no v1.7.0 conformance test; e2e TestListenerFiltersAndDestinationPort
	// (an ExternalAuth filter asks a service in the cluster; an ExtensionRef filter is refused).
	"GatewayListenerFilters",
	"GatewayPort8080",
	"GatewayRouteHostnameIntersectionPrecedence",
	"GatewayStaticAddresses",
	// ListenerSet (extended; its 13 tests of the suite pass).
	"ListenerSet",
	// GRPCRoute extended.
	"GRPCRouteNamedRouteRule",
	"GRPCRouteRequestHeaderModifier",
	// HTTPRoute extended.
	"HTTPRoute303RedirectStatusCode",
	"HTTPRoute307RedirectStatusCode",
	"HTTPRoute308RedirectStatusCode",
	"HTTPRouteBackendRequestHeaderModification",
	"HTTPRouteBackendProtocolH2C",
	"HTTPRouteBackendProtocolWebSocket",
	"HTTPRouteBackendTimeout",
	"HTTPRouteBackendURLRewrite",
	"HTTPRouteCORS",
	// HTTPRouteDestinationPortMatching: conformance HTTPRouteInvalidParentRefNotMatchingListenerPort
	// and e2e TestListenerFiltersAndDestinationPort (routes attached by port alone).
	"HTTPRouteDestinationPortMatching",
	"HTTPRouteHostRewrite",
	"HTTPRouteMethodMatching",
	"HTTPRouteNamedRouteRule",
	"HTTPRouteParentRefPort",
	"HTTPRoutePathRedirect",
	"HTTPRoutePathRewrite",
	"HTTPRoutePortRedirect",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors",
	"HTTPRouteRequestPercentageMirror",
	"HTTPRouteRequestTimeout",
	"HTTPRouteResponseHeaderModification",
	"HTTPRouteRetryCodes",
	"HTTPRouteRetryConnectionError",
	"HTTPRouteSchemeRedirect",
	// TLSRoute extended.
	"TLSRouteModeMixed",
	"TLSRouteModeTerminate",
}

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

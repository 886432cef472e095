package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RouteReasonInvalidBackendTLSPolicy is the reason of a route's ResolvedRefs=False
// condition when a backend's Service port has a BackendTLSPolicy that cannot be applied:
// the backend gets no traffic rather than traffic without the verification the policy
// asks for. The Gateway API names no reason for this case.
const RouteReasonInvalidBackendTLSPolicy gwapiv1.RouteConditionReason = "InvalidBackendTLSPolicy"

// PolicyAccepted is the Accepted condition of a policy's ancestor entry: True when reason
// is Accepted, False for any other reason (Conflicted, Invalid, NoValidCACertificate). An
// empty message of a True condition becomes "Policy is accepted".
func PolicyAccepted(generation int64, reason gwapiv1.PolicyConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.PolicyReasonAccepted
	if ok && message == "" {
		message = "Policy is accepted"
	}
	return condition(string(gwapiv1.PolicyConditionAccepted), ok, string(reason), message, generation)
}

// PolicyResolvedRefs is the ResolvedRefs condition of a BackendTLSPolicy's ancestor entry:
// True when reason is ResolvedRefs, False for any other reason (InvalidCACertificateRef,
// InvalidKind). An empty message of a True condition becomes "All references are resolved".
func PolicyResolvedRefs(generation int64, reason gwapiv1.PolicyConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.BackendTLSPolicyReasonResolvedRefs
	if ok && message == "" {
		message = "All references are resolved"
	}
	return condition(string(gwapiv1.BackendTLSPolicyConditionResolvedRefs), ok, string(reason), message, generation)
}

// GatewayResolvedRefs is the ResolvedRefs condition of a Gateway with references of its
// own (spec.tls.backend.clientCertificateRef): True when reason is ResolvedRefs, False for
// any other reason (InvalidClientCertificateRef, RefNotPermitted). An empty message of a
// True condition becomes "All references are resolved".
func GatewayResolvedRefs(generation int64, reason gwapiv1.GatewayConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.GatewayReasonResolvedRefs
	if ok && message == "" {
		message = "All references are resolved"
	}
	return condition(string(gwapiv1.GatewayConditionResolvedRefs), ok, string(reason), message, generation)
}

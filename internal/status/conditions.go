// Package status builds the conditions the operator publishes, from named constructors
// with typed reasons, and merges them without touching LastTransitionTime when a
// condition did not change. It performs no I/O.
package status

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Condition types and reasons of the CaddyProxyConfig API.
const (
	// ConditionAccepted says whether a CaddyProxyConfig is valid and usable.
	ConditionAccepted = "Accepted"
	// ReasonAccepted is the reason of a True Accepted condition.
	ReasonAccepted = "Accepted"
	// ReasonInvalid is the reason of a False Accepted condition on a CaddyProxyConfig.
	ReasonInvalid = "Invalid"
	// ReasonInvalidParameters is the reason used on an ancestor whose parameters are invalid.
	ReasonInvalidParameters = string(gwapiv1.GatewayClassReasonInvalidParameters)
)

// ClassAccepted is the Accepted condition of a GatewayClass whose parameters are usable.
func ClassAccepted(generation int64) metav1.Condition {
	return metav1.Condition{
		Type:               string(gwapiv1.GatewayClassConditionStatusAccepted),
		Status:             metav1.ConditionTrue,
		Reason:             string(gwapiv1.GatewayClassReasonAccepted),
		Message:            "GatewayClass is accepted by the Caddy Gateway Operator",
		ObservedGeneration: generation,
	}
}

// ClassInvalidParameters is the Accepted=False condition of a GatewayClass whose
// parametersRef cannot be used; message says exactly why.
func ClassInvalidParameters(generation int64, message string) metav1.Condition {
	return metav1.Condition{
		Type:               string(gwapiv1.GatewayClassConditionStatusAccepted),
		Status:             metav1.ConditionFalse,
		Reason:             string(gwapiv1.GatewayClassReasonInvalidParameters),
		Message:            message,
		ObservedGeneration: generation,
	}
}

// ClassSupportedVersion is the SupportedVersion condition of a GatewayClass; message names
// the installed and the supported Gateway API versions.
func ClassSupportedVersion(generation int64, supported bool, message string) metav1.Condition {
	c := metav1.Condition{
		Type:               string(gwapiv1.GatewayClassConditionStatusSupportedVersion),
		Status:             metav1.ConditionTrue,
		Reason:             string(gwapiv1.GatewayClassReasonSupportedVersion),
		Message:            message,
		ObservedGeneration: generation,
	}
	if !supported {
		c.Status = metav1.ConditionFalse
		c.Reason = string(gwapiv1.GatewayClassReasonUnsupportedVersion)
	}
	return c
}

// ParamsAccepted is the Accepted condition of a CaddyProxyConfig: True when err is nil,
// otherwise False with err's text.
func ParamsAccepted(generation int64, err error) metav1.Condition {
	if err != nil {
		return metav1.Condition{
			Type: ConditionAccepted, Status: metav1.ConditionFalse, Reason: ReasonInvalid,
			Message: err.Error(), ObservedGeneration: generation,
		}
	}
	return metav1.Condition{
		Type: ConditionAccepted, Status: metav1.ConditionTrue, Reason: ReasonAccepted,
		Message: "CaddyProxyConfig is valid", ObservedGeneration: generation,
	}
}

// AncestorAccepted is the Accepted condition a CaddyProxyConfig reports for each
// GatewayClass or Gateway using it: True when err is nil, otherwise False with reason
// InvalidParameters and err's text.
func AncestorAccepted(generation int64, err error) metav1.Condition {
	c := ParamsAccepted(generation, err)
	if err != nil {
		c.Reason = ReasonInvalidParameters
	}
	return c
}

// Merge sets each of updates into conditions, keeping LastTransitionTime of conditions
// whose status did not change, and reports whether anything changed.
func Merge(conditions *[]metav1.Condition, updates ...metav1.Condition) bool {
	changed := false
	for _, u := range updates {
		if meta.SetStatusCondition(conditions, u) {
			changed = true
		}
	}
	return changed
}

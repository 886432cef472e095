package status

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Implementation-specific Gateway condition types and reasons.
const (
	// ConditionAdminCertificates says which issuer provides the admin channel's certificates.
	ConditionAdminCertificates = "caddygateway.io/AdminCertificates"
	// ReasonCertManager: cert-manager issues the admin certificates.
	ReasonCertManager = "CertManager"
	// ReasonBuiltInCA: the operator's built-in CA issues the admin certificates.
	ReasonBuiltInCA = "BuiltInCA"
	// ReasonIssuingFailed: the admin certificates could not be issued.
	ReasonIssuingFailed = "IssuingFailed"
)

// GatewayAccepted is the Accepted condition of a Gateway whose parameters are usable.
func GatewayAccepted(generation int64) metav1.Condition {
	return metav1.Condition{
		Type: string(gwapiv1.GatewayConditionAccepted), Status: metav1.ConditionTrue,
		Reason: string(gwapiv1.GatewayReasonAccepted), Message: "Gateway is accepted",
		ObservedGeneration: generation,
	}
}

// GatewayAcceptedWithListeners is the Accepted condition of a Gateway whose parameters are
// usable, given its listeners' statuses: when some listener is not accepted the reason is
// ListenersNotValid, with status True while at least one listener is accepted and False
// when none is.
func GatewayAcceptedWithListeners(generation int64, listeners []gwapiv1.ListenerStatus) metav1.Condition {
	var invalid []string
	for _, l := range listeners {
		if !meta.IsStatusConditionTrue(l.Conditions, string(gwapiv1.ListenerConditionAccepted)) {
			invalid = append(invalid, string(l.Name))
		}
	}
	if len(invalid) == 0 {
		return GatewayAccepted(generation)
	}
	c := metav1.Condition{
		Type: string(gwapiv1.GatewayConditionAccepted), Status: metav1.ConditionTrue,
		Reason:             string(gwapiv1.GatewayReasonListenersNotValid),
		Message:            "listeners not accepted: " + strings.Join(invalid, ", "),
		ObservedGeneration: generation,
	}
	if len(invalid) == len(listeners) {
		c.Status, c.Message = metav1.ConditionFalse, "no listener is accepted: "+strings.Join(invalid, ", ")
	}
	return c
}

// GatewayInvalidParameters is the Accepted=False condition of a Gateway whose parameters
// (its own or its class's) cannot be used. The last good infrastructure keeps serving.
func GatewayInvalidParameters(generation int64, message string) metav1.Condition {
	return metav1.Condition{
		Type: string(gwapiv1.GatewayConditionAccepted), Status: metav1.ConditionFalse,
		Reason: string(gwapiv1.GatewayReasonInvalidParameters), Message: message,
		ObservedGeneration: generation,
	}
}

// GatewayNotProgrammed is the Programmed=False condition of a Gateway whose Caddy pods do
// not run its current configuration yet.
func GatewayNotProgrammed(generation int64, reason gwapiv1.GatewayConditionReason, message string) metav1.Condition {
	return metav1.Condition{
		Type: string(gwapiv1.GatewayConditionProgrammed), Status: metav1.ConditionFalse,
		Reason: string(reason), Message: message, ObservedGeneration: generation,
	}
}

// GatewayProgrammed is the Programmed=True condition of a Gateway whose Caddy pods all run
// its current configuration; the message counts them.
func GatewayProgrammed(generation int64, programmed, total int) metav1.Condition {
	return metav1.Condition{
		Type: string(gwapiv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue,
		Reason: string(gwapiv1.GatewayReasonProgrammed), ObservedGeneration: generation,
		Message: fmt.Sprintf("%d/%d pods programmed", programmed, total),
	}
}

// GatewayInsecureFrontendValidation is the InsecureFrontendValidationMode=True condition
// of a Gateway whose frontend validations named in where allow insecure fallback.
func GatewayInsecureFrontendValidation(generation int64, where []string) metav1.Condition {
	return condition(string(gwapiv1.GatewayConditionInsecureFrontendValidationMode), true,
		string(gwapiv1.GatewayReasonConfigurationChanged),
		fmt.Sprintf("client certificate validation mode AllowInsecureFallback is set in %s: HTTPS connections "+
			"without a valid client certificate are accepted, and authorizing clients is left to the backends",
			strings.Join(where, " and ")), generation)
}

// AdminCertificates reports which issuer provides the admin certificates, or why none does.
func AdminCertificates(generation int64, reason, message string) metav1.Condition {
	st := metav1.ConditionTrue
	if reason == ReasonIssuingFailed {
		st = metav1.ConditionFalse
	}
	return metav1.Condition{
		Type: ConditionAdminCertificates, Status: st, Reason: reason, Message: message,
		ObservedGeneration: generation,
	}
}

// GatewayUnsupportedAddress is the Accepted=False condition of a Gateway that requests an
// address of a type the operator does not support. The last good infrastructure keeps
// serving.
func GatewayUnsupportedAddress(generation int64, problems []string) metav1.Condition {
	return metav1.Condition{
		Type: string(gwapiv1.GatewayConditionAccepted), Status: metav1.ConditionFalse,
		Reason: string(gwapiv1.GatewayReasonUnsupportedAddress), Message: strings.Join(problems, "; "),
		ObservedGeneration: generation,
	}
}

// GatewayAddressesAssigned is the AddressesAssigned condition of a Gateway that requests
// addresses: True when every request is served, else False with PartiallyAssigned (some
// are served) or NotAssigned (none is), the message naming each request not served.
func GatewayAddressesAssigned(generation int64, served int, unserved []string) metav1.Condition {
	c := metav1.Condition{
		Type: string(gwapiv1.GatewayConditionAddressesAssigned), Status: metav1.ConditionTrue,
		Reason: string(gwapiv1.GatewayReasonAddressesAssigned), Message: "every requested address is assigned",
		ObservedGeneration: generation,
	}
	if len(unserved) == 0 {
		return c
	}
	c.Status, c.Reason = metav1.ConditionFalse, string(gwapiv1.GatewayReasonAddressesNotAssigned)
	if served > 0 {
		c.Reason = string(gwapiv1.GatewayReasonAddressesPartiallyAssigned)
	}
	c.Message = "not assigned: " + strings.Join(unserved, "; ")
	return c
}

package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ListenerSetAccepted is the Accepted condition of a ListenerSet: True when reason is
// Accepted (an empty message then becomes "ListenerSet is accepted"), False for any
// other reason (NotAllowed, ListenersNotValid, ParentNotAccepted).
func ListenerSetAccepted(generation int64, reason gwapiv1.ListenerSetConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.ListenerSetReasonAccepted
	if ok && message == "" {
		message = "ListenerSet is accepted"
	}
	return condition(string(gwapiv1.ListenerSetConditionAccepted), ok, string(reason), message, generation)
}

// ListenerSetProgrammed is the Programmed condition of a ListenerSet: False with the
// reason and message of its Accepted condition when that is False, else the status and
// message of the Gateway's Programmed condition (reason Programmed when True, Pending
// otherwise), for the set's generation.
func ListenerSetProgrammed(accepted, gatewayProgrammed metav1.Condition) metav1.Condition {
	c := metav1.Condition{Type: string(gwapiv1.ListenerSetConditionProgrammed), ObservedGeneration: accepted.ObservedGeneration}
	switch {
	case accepted.Status != metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, accepted.Reason, accepted.Message
	case gatewayProgrammed.Status == metav1.ConditionTrue:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(gwapiv1.ListenerSetReasonProgrammed), gatewayProgrammed.Message
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gwapiv1.ListenerSetReasonPending), gatewayProgrammed.Message
	}
	return c
}

// ListenerEntryProgrammed is the Programmed condition of a ListenerSet's listener:
// False with the reason and message of its Accepted condition when that is False (a
// conflicted listener is not programmed for the reason of its conflict), else carried
// over from the Gateway's Programmed condition, for the set's generation.
func ListenerEntryProgrammed(accepted, gatewayProgrammed metav1.Condition) metav1.Condition {
	c := gatewayProgrammed
	c.Type, c.ObservedGeneration = string(gwapiv1.ListenerEntryConditionProgrammed), accepted.ObservedGeneration
	if accepted.Status != metav1.ConditionTrue {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, accepted.Reason, accepted.Message
	}
	return c
}

package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ListenerAccepted is the Accepted condition of a Gateway listener: True when reason is
// Accepted, False for any other reason. An empty message of a True condition becomes
// "Listener is accepted".
func ListenerAccepted(generation int64, reason gwapiv1.ListenerConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.ListenerReasonAccepted
	if ok && message == "" {
		message = "Listener is accepted"
	}
	return condition(string(gwapiv1.ListenerConditionAccepted), ok, string(reason), message, generation)
}

// ListenerResolvedRefs is the ResolvedRefs condition of a Gateway listener: True when
// reason is ResolvedRefs, False for any other reason. An empty message becomes
// "All references are resolved".
func ListenerResolvedRefs(generation int64, reason gwapiv1.ListenerConditionReason, message string) metav1.Condition {
	if message == "" {
		message = "All references are resolved"
	}
	return condition(string(gwapiv1.ListenerConditionResolvedRefs), reason == gwapiv1.ListenerReasonResolvedRefs,
		string(reason), message, generation)
}

// ListenerConflicted is the Conflicted condition of a Gateway listener: False when reason
// is NoConflicts (an empty message then becomes "No conflicts"), True with the conflict's
// reason (ProtocolConflict, HostnameConflict) otherwise.
func ListenerConflicted(generation int64, reason gwapiv1.ListenerConditionReason, message string) metav1.Condition {
	none := reason == gwapiv1.ListenerReasonNoConflicts
	if none && message == "" {
		message = "No conflicts"
	}
	return condition(string(gwapiv1.ListenerConditionConflicted), !none, string(reason), message, generation)
}

// ListenerProgrammed is the Programmed condition of a Gateway listener, carried over from
// the Gateway's Programmed condition: False with reason Invalid when the listener is not
// accepted, else the Gateway's status, reason and message.
func ListenerProgrammed(gatewayProgrammed metav1.Condition, listenerAccepted bool) metav1.Condition {
	c := gatewayProgrammed
	c.Type = string(gwapiv1.ListenerConditionProgrammed)
	if !listenerAccepted {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gwapiv1.ListenerReasonInvalid), "the listener is not accepted"
	}
	return c
}

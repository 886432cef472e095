package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RouteAccepted is the Accepted condition of a route's parent entry: True when reason is
// Accepted, False for any other reason. An empty message of a True condition becomes
// "Route is accepted".
func RouteAccepted(generation int64, reason gwapiv1.RouteConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.RouteReasonAccepted
	if ok && message == "" {
		message = "Route is accepted"
	}
	return condition(string(gwapiv1.RouteConditionAccepted), ok, string(reason), message, generation)
}

// RouteResolvedRefs is the ResolvedRefs condition of a route's parent entry: True when
// reason is ResolvedRefs, False for any other reason. An empty message of a True condition
// becomes "All references are resolved".
func RouteResolvedRefs(generation int64, reason gwapiv1.RouteConditionReason, message string) metav1.Condition {
	ok := reason == gwapiv1.RouteReasonResolvedRefs
	if ok && message == "" {
		message = "All references are resolved"
	}
	return condition(string(gwapiv1.RouteConditionResolvedRefs), ok, string(reason), message, generation)
}

// condition builds a condition whose status is True when ok; LastTransitionTime is left
// to Merge, which keeps it when the status did not change.
func condition(typ string, ok bool, reason, message string, generation int64) metav1.Condition {
	s := metav1.ConditionTrue
	if !ok {
		s = metav1.ConditionFalse
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message, ObservedGeneration: generation}
}

package translator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// cond builds a condition; LastTransitionTime is left to the status writer, which
// keeps it when the status did not change.
func cond(typ string, ok bool, reason, msg string, gen int64) metav1.Condition {
	s := metav1.ConditionTrue
	if !ok {
		s = metav1.ConditionFalse
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen}
}

// routeAccepted is the Accepted condition of a route parent entry.
func routeAccepted(gen int64, reason gwapiv1.RouteConditionReason, msg string) metav1.Condition {
	ok := reason == gwapiv1.RouteReasonAccepted
	if ok && msg == "" {
		msg = "Route is accepted"
	}
	return cond(string(gwapiv1.RouteConditionAccepted), ok, string(reason), msg, gen)
}

// routeResolvedRefs is the ResolvedRefs condition of a route parent entry.
func routeResolvedRefs(gen int64, reason gwapiv1.RouteConditionReason, msg string) metav1.Condition {
	ok := reason == gwapiv1.RouteReasonResolvedRefs
	if ok && msg == "" {
		msg = "All references are resolved"
	}
	return cond(string(gwapiv1.RouteConditionResolvedRefs), ok, string(reason), msg, gen)
}

// listenerCond is a listener condition; ok selects the status.
func listenerCond(typ gwapiv1.ListenerConditionType, ok bool, reason gwapiv1.ListenerConditionReason, msg string, gen int64) metav1.Condition {
	return cond(string(typ), ok, string(reason), msg, gen)
}

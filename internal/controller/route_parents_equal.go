package controller

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parentsEqual is equality.Semantic.DeepEqual of route parent entries (nil and empty
// lists equal, times equal when they are the same instant) without reflection: every
// reconcile of a Gateway compares the entries of each of its routes, thousands of them.
// TestParentsEqual fails when the API types gain a field this does not compare.
func parentsEqual(a, b []gwapiv1.RouteParentStatus) bool {
	return slices.EqualFunc(a, b, func(x, y gwapiv1.RouteParentStatus) bool {
		return x.ControllerName == y.ControllerName && parentRefEqual(&x.ParentRef, &y.ParentRef) &&
			slices.EqualFunc(x.Conditions, y.Conditions, conditionEqual)
	})
}

func parentRefEqual(a, b *gwapiv1.ParentReference) bool {
	return a.Name == b.Name && ptr.Equal(a.Group, b.Group) && ptr.Equal(a.Kind, b.Kind) &&
		ptr.Equal(a.Namespace, b.Namespace) && ptr.Equal(a.SectionName, b.SectionName) && ptr.Equal(a.Port, b.Port)
}

func conditionEqual(a, b metav1.Condition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.ObservedGeneration == b.ObservedGeneration &&
		a.Reason == b.Reason && a.Message == b.Message && a.LastTransitionTime.Equal(&b.LastTransitionTime)
}

package controller

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestParentsEqual checks parentsEqual against equality.Semantic.DeepEqual on entries that
// differ in each field in turn, and that the API types have no field it does not compare.
func TestParentsEqual(t *testing.T) {
	for typ, fields := range map[reflect.Type]int{
		reflect.TypeFor[gwapiv1.RouteParentStatus](): 3,
		reflect.TypeFor[gwapiv1.ParentReference]():   6,
		reflect.TypeFor[metav1.Condition]():          6,
	} {
		if typ.NumField() != fields {
			t.Errorf("%s has %d fields, parentsEqual compares %d: compare the new ones", typ, typ.NumField(), fields)
		}
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func() []gwapiv1.RouteParentStatus {
		return []gwapiv1.RouteParentStatus{{
			ParentRef: gwapiv1.ParentReference{
				Group: ptr.To(gwapiv1.Group(gwapiv1.GroupName)), Kind: ptr.To(gwapiv1.Kind("Gateway")),
				Namespace: ptr.To(gwapiv1.Namespace("infra")), Name: "web",
				SectionName: ptr.To(gwapiv1.SectionName("http")), Port: ptr.To(gwapiv1.PortNumber(80)),
			},
			ControllerName: "caddygateway.io/gateway-controller",
			Conditions: []metav1.Condition{{
				Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 2, Reason: "Accepted",
				Message: "fine", LastTransitionTime: metav1.NewTime(at),
			}},
		}}
	}
	tests := map[string]func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus{
		"same": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { return p },
		"same instant elsewhere": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].LastTransitionTime = metav1.NewTime(at.In(time.FixedZone("x", 3600)))
			return p
		},
		"another time": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].LastTransitionTime = metav1.NewTime(at.Add(time.Nanosecond))
			return p
		},
		"another type": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].Type = "ResolvedRefs"
			return p
		},
		"another status": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].Status = metav1.ConditionFalse
			return p
		},
		"another generation": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].ObservedGeneration = 3
			return p
		},
		"another reason": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].Reason = "NotAllowed"
			return p
		},
		"another message": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].Conditions[0].Message = "no"
			return p
		},
		"no conditions": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { p[0].Conditions = nil; return p },
		"another controller": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].ControllerName = "other"
			return p
		},
		"another name": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { p[0].ParentRef.Name = "api"; return p },
		"no group":     func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { p[0].ParentRef.Group = nil; return p },
		"another kind": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].ParentRef.Kind = ptr.To(gwapiv1.Kind("Service"))
			return p
		},
		"another namespace": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].ParentRef.Namespace = ptr.To(gwapiv1.Namespace("x"))
			return p
		},
		"no section": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].ParentRef.SectionName = nil
			return p
		},
		"another port": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus {
			p[0].ParentRef.Port = ptr.To(gwapiv1.PortNumber(81))
			return p
		},
		"one more entry": func(p []gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { return append(p, p[0]) },
		"no entries":     func([]gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { return nil },
		"empty, not nil": func([]gwapiv1.RouteParentStatus) []gwapiv1.RouteParentStatus { return []gwapiv1.RouteParentStatus{} },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			a, b := base(), change(base())
			want := equality.Semantic.DeepEqual(a, b)
			if got := parentsEqual(a, b); got != want {
				t.Fatalf("parentsEqual = %v, equality.Semantic.DeepEqual = %v", got, want)
			}
			if got := parentsEqual(b, a); got != want {
				t.Fatalf("reversed: parentsEqual = %v, equality.Semantic.DeepEqual = %v", got, want)
			}
		})
	}
	if !parentsEqual(nil, []gwapiv1.RouteParentStatus{}) || !equality.Semantic.DeepEqual([]gwapiv1.RouteParentStatus(nil), []gwapiv1.RouteParentStatus{}) {
		t.Fatal("nil and empty entries differ")
	}
}

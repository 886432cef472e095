package status_test

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

var earlier = metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))

func cond(typ string, s metav1.ConditionStatus, reason, message string, gen int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message, ObservedGeneration: gen, LastTransitionTime: earlier}
}

// fresh is c as the constructors build it: without a LastTransitionTime.
func fresh(c metav1.Condition) metav1.Condition {
	c.LastTransitionTime = metav1.Time{}
	return c
}

func TestMerge(t *testing.T) {
	accepted := cond("Accepted", metav1.ConditionTrue, "Accepted", "ok", 1)
	version := cond("SupportedVersion", metav1.ConditionTrue, "SupportedVersion", "v1.7.0", 1)
	tests := map[string]struct {
		existing    []metav1.Condition
		updates     []metav1.Condition
		wantChanged bool
		want        []metav1.Condition
		// wantNewTime lists the types whose LastTransitionTime must be new (not earlier).
		wantNewTime []string
	}{
		"nothing to merge": {
			existing: []metav1.Condition{accepted},
			want:     []metav1.Condition{accepted},
		},
		"identical condition keeps its time": {
			existing: []metav1.Condition{accepted, version},
			updates:  []metav1.Condition{fresh(accepted)},
			want:     []metav1.Condition{accepted, version},
		},
		"same status, new message and generation keeps the time": {
			existing:    []metav1.Condition{accepted},
			updates:     []metav1.Condition{fresh(cond("Accepted", metav1.ConditionTrue, "Accepted", "still ok", 2))},
			wantChanged: true,
			want:        []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", "still ok", 2)},
		},
		"status flip takes a new time": {
			existing:    []metav1.Condition{accepted, version},
			updates:     []metav1.Condition{fresh(cond("Accepted", metav1.ConditionFalse, "InvalidParameters", "bad", 2))},
			wantChanged: true,
			want:        []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "InvalidParameters", "bad", 2), version},
			wantNewTime: []string{"Accepted"},
		},
		"new condition is appended with a time": {
			existing:    []metav1.Condition{accepted},
			updates:     []metav1.Condition{fresh(version)},
			wantChanged: true,
			want:        []metav1.Condition{accepted, version},
			wantNewTime: []string{"SupportedVersion"},
		},
		"one of two updates changes": {
			existing:    []metav1.Condition{accepted, version},
			updates:     []metav1.Condition{fresh(accepted), fresh(cond("SupportedVersion", metav1.ConditionFalse, "UnsupportedVersion", "v1.5.0", 1))},
			wantChanged: true,
			want:        []metav1.Condition{accepted, cond("SupportedVersion", metav1.ConditionFalse, "UnsupportedVersion", "v1.5.0", 1)},
			wantNewTime: []string{"SupportedVersion"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conds := append([]metav1.Condition(nil), tc.existing...)
			before := time.Now().Add(-time.Second)
			changed := status.Merge(&conds, tc.updates...)
			if changed != tc.wantChanged {
				t.Errorf("Merge reported changed=%t, want %t", changed, tc.wantChanged)
			}
			if len(conds) != len(tc.want) {
				t.Fatalf("got %d conditions %+v, want %+v", len(conds), conds, tc.want)
			}
			newTime := map[string]bool{}
			for _, typ := range tc.wantNewTime {
				newTime[typ] = true
			}
			for i, w := range tc.want {
				g := conds[i]
				if newTime[w.Type] {
					if g.LastTransitionTime.Time.Before(before) {
						t.Errorf("%s: lastTransitionTime %v was not renewed", w.Type, g.LastTransitionTime)
					}
					g.LastTransitionTime = w.LastTransitionTime
				}
				if g != w {
					t.Errorf("condition %d is %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestConstructors(t *testing.T) {
	tests := map[string]struct {
		got  metav1.Condition
		want metav1.Condition
	}{
		"class accepted": {
			got:  status.ClassAccepted(3),
			want: metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "GatewayClass is accepted by the Caddy Gateway Operator", ObservedGeneration: 3},
		},
		"class invalid parameters": {
			got:  status.ClassInvalidParameters(4, "why"),
			want: metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "InvalidParameters", Message: "why", ObservedGeneration: 4},
		},
		"supported version": {
			got:  status.ClassSupportedVersion(5, true, "v1.7.0"),
			want: metav1.Condition{Type: "SupportedVersion", Status: metav1.ConditionTrue, Reason: "SupportedVersion", Message: "v1.7.0", ObservedGeneration: 5},
		},
		"unsupported version": {
			got:  status.ClassSupportedVersion(6, false, "v1.5.0"),
			want: metav1.Condition{Type: "SupportedVersion", Status: metav1.ConditionFalse, Reason: "UnsupportedVersion", Message: "v1.5.0", ObservedGeneration: 6},
		},
		"params accepted": {
			got:  status.ParamsAccepted(7, nil),
			want: metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "CaddyProxyConfig is valid", ObservedGeneration: 7},
		},
		"params invalid": {
			got:  status.ParamsAccepted(8, errors.New("spec.x: bad")),
			want: metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "Invalid", Message: "spec.x: bad", ObservedGeneration: 8},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %+v, want %+v", tc.got, tc.want)
			}
		})
	}
}

package controller_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/status"
)

// TestReleasedStatus shows what of a moved Gateway's status is removed as this operator's:
// the conditions of earlier generations and our AdminCertificates, and the listeners and
// addresses unless the other controller has already written them for the current one.
func TestReleasedStatus(t *testing.T) {
	const gen = 3
	cond := func(typ string, g int64, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: "R", Message: msg, ObservedGeneration: g}
	}
	accepted, programmed := string(gwapiv1.GatewayConditionAccepted), string(gwapiv1.GatewayConditionProgrammed)
	ip := gwapiv1.IPAddressType
	addresses := []gwapiv1.GatewayStatusAddress{{Type: &ip, Value: "10.0.0.1"}}
	listeners := func(g int64) []gwapiv1.ListenerStatus {
		return []gwapiv1.ListenerStatus{{Name: "http", Conditions: []metav1.Condition{cond(accepted, g, "")}}}
	}
	tests := map[string]struct {
		in, want gwapiv1.GatewayStatus
	}{
		"all ours": {
			in: gwapiv1.GatewayStatus{
				Conditions: []metav1.Condition{cond(accepted, 2, "ours"), cond(programmed, 2, "ours"),
					cond(status.ConditionAdminCertificates, 2, "ours"), cond("Foreign", 1, "theirs")},
				Listeners: listeners(2), Addresses: addresses,
			},
			want: gwapiv1.GatewayStatus{Conditions: []metav1.Condition{cond("Foreign", 1, "theirs")}},
		},
		"the other controller wrote first": {
			in: gwapiv1.GatewayStatus{
				Conditions: []metav1.Condition{cond(accepted, gen, "theirs"), cond(programmed, 2, "ours"),
					cond(status.ConditionAdminCertificates, gen, "another instance's")},
				Listeners: listeners(gen), Addresses: addresses,
			},
			want: gwapiv1.GatewayStatus{
				Conditions: []metav1.Condition{cond(accepted, gen, "theirs"), cond(status.ConditionAdminCertificates, gen, "another instance's")},
				Listeners:  listeners(gen), Addresses: addresses,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in.DeepCopy()
			got := controller.ReleasedStatus(in, gen)
			if !equality.Semantic.DeepEqual(got, &tc.want) {
				t.Errorf("released status is %+v, want %+v", got, tc.want)
			}
			if !equality.Semantic.DeepEqual(in, &tc.in) {
				t.Errorf("the input changed to %+v", in)
			}
		})
	}
}

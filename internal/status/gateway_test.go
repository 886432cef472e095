package status_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

func TestGatewayAcceptedWithListeners(t *testing.T) {
	listener := func(name string, accepted metav1.ConditionStatus) gwapiv1.ListenerStatus {
		return gwapiv1.ListenerStatus{Name: gwapiv1.SectionName(name), Conditions: []metav1.Condition{{Type: "Accepted", Status: accepted}}}
	}
	tests := map[string]struct {
		listeners []gwapiv1.ListenerStatus
		status    metav1.ConditionStatus
		reason    string
		message   string
	}{
		"all accepted": {[]gwapiv1.ListenerStatus{listener("http", "True")}, "True", "Accepted", "Gateway is accepted"},
		"some invalid": {[]gwapiv1.ListenerStatus{listener("http", "True"), listener("bad", "False")}, "True", "ListenersNotValid", "listeners not accepted: bad"},
		"none valid":   {[]gwapiv1.ListenerStatus{listener("bad", "False"), listener("worse", "False")}, "False", "ListenersNotValid", "no listener is accepted: bad, worse"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := status.GatewayAcceptedWithListeners(3, tc.listeners)
			if c.Type != "Accepted" || c.Status != tc.status || c.Reason != tc.reason || c.Message != tc.message || c.ObservedGeneration != 3 {
				t.Errorf("got %+v, want %s/%s %q", c, tc.status, tc.reason, tc.message)
			}
		})
	}
}

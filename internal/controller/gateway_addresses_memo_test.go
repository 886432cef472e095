package controller

import (
	"testing"

	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A write whose routability the API server pruned (standard-channel CRDs) makes later
// statuses leave it out, so they compare equal to the stored ones; a write that kept it
// changes nothing.
func TestRoutabilityMemo(t *testing.T) {
	with := []gwapiv1.GatewayStatusAddress{{Value: "10.96.0.5", Routability: ptr.To(gwapiv1.GatewayAddressRoutabilityCluster)}}
	without := []gwapiv1.GatewayStatusAddress{{Value: "10.96.0.5"}}
	var m routabilityMemo
	m.learn(with, with)
	if got := m.fit(with); got[0].Routability == nil {
		t.Fatal("routability dropped although the API server kept it")
	}
	m.learn(with, without)
	got := m.fit(with)
	if got[0].Routability != nil {
		t.Fatal("routability kept although the API server prunes it")
	}
	if with[0].Routability == nil {
		t.Fatal("fit changed its argument")
	}
}

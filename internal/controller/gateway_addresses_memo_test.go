package controller

import (
	"time"

	"testing"

	"k8s.io/apimachinery/pkg/types"
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

// A recorded refusal stands for the same rendered Service and live resourceVersion only;
// a request that was taken, or a Gateway forgotten, leaves none.
func TestAddressRefusals(t *testing.T) {
	gw := types.NamespacedName{Namespace: "app", Name: "gw"}
	var a addressRefusals
	if _, ok := a.standing(gw, "h1", "7"); ok {
		t.Fatal("a refusal stands before any was recorded")
	}
	a.record(gw, "h1", "7", "taken")
	if got, ok := a.standing(gw, "h1", "7"); !ok || got != "taken" {
		t.Fatalf("standing = %q, %v; want the recorded refusal", got, ok)
	}
	for _, c := range []struct{ asked, version string }{{"h2", "7"}, {"h1", "8"}, {"h1", ""}} {
		if _, ok := a.standing(gw, c.asked, c.version); ok {
			t.Errorf("a refusal stands for Service %s at version %q; it was recorded for h1 at 7", c.asked, c.version)
		}
	}
	if _, ok := a.standing(types.NamespacedName{Namespace: "app", Name: "other"}, "h1", "7"); ok {
		t.Error("a refusal stands for another Gateway")
	}
	a.record(gw, "h2", "7", "")
	if _, ok := a.standing(gw, "h1", "7"); ok {
		t.Error("a refusal stands after a request was taken")
	}
	a.record(gw, "h1", "7", "taken")
	s := a.m[gw]
	s.at = s.at.Add(-refusalTTL - time.Second)
	a.m[gw] = s
	if _, ok := a.standing(gw, "h1", "7"); ok {
		t.Error("a refusal stands past refusalTTL: an address freed elsewhere would never be noticed")
	}
	a.record(gw, "h1", "7", "taken")
	a.forget(gw)
	if _, ok := a.standing(gw, "h1", "7"); ok {
		t.Error("a refusal stands for a forgotten Gateway")
	}
}

package controller

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// acceptedParent is a parent entry as the translation gives it to a route attached to
// gw's listener http.
func acceptedParent(gen int64) gwapiv1.RouteParentStatus {
	section := gwapiv1.SectionName("http")
	return gwapiv1.RouteParentStatus{
		ParentRef:      gwapiv1.ParentReference{Name: "gw", SectionName: &section},
		ControllerName: "caddygateway.io/gateway-controller",
		Conditions: []metav1.Condition{
			status.RouteAccepted(gen, gwapiv1.RouteReasonAccepted, ""),
			status.RouteResolvedRefs(gen, gwapiv1.RouteReasonResolvedRefs, ""),
		},
	}
}

// TestRefusedRouteIsNotAccepted: of two routes of one host table, the one whose rules
// Caddy refused gets Accepted=False, reason UnsupportedValue, naming the host table, the
// pods and Caddy's error, on its accepted parent entries only; the other route of the
// same host table keeps its entries, and the translation's statuses are not changed.
func TestRefusedRouteIsNotAccepted(t *testing.T) {
	notAttached := gwapiv1.RouteParentStatus{ParentRef: gwapiv1.ParentReference{Name: "gw"}, Conditions: []metav1.Condition{
		status.RouteAccepted(4, gwapiv1.RouteReasonNoMatchingListenerHostname, "no listener matches"),
	}}
	statuses := []translator.RouteStatus{
		{Kind: "HTTPRoute", Namespace: "tenant-a", Name: "a", Parents: []gwapiv1.RouteParentStatus{acceptedParent(2)}},
		{Kind: "HTTPRoute", Namespace: "tenant-b", Name: "b", Parents: []gwapiv1.RouteParentStatus{acceptedParent(4), notAttached}},
		{Kind: "GRPCRoute", Namespace: "tenant-b", Name: "b", Parents: []gwapiv1.RouteParentStatus{acceptedParent(1)}},
	}
	before := []translator.RouteStatus{statuses[0], statuses[1], statuses[2]}
	before[1].Parents = []gwapiv1.RouteParentStatus{acceptedParent(4), notAttached}
	errs := []pusher.TableError{{Table: "80/", Host: "shared.example.com", Error: "the routes of HTTPRoute/tenant-b/b ...",
		Pods: []string{"caddy-0", "caddy-1"}, Refused: []caddyjson.RefusedSource{{Key: "HTTPRoute/tenant-b/b", Error: "unknown module: http.handlers.x"}}}}

	got := withRefusals(statuses, errs)
	if !reflect.DeepEqual(statuses, before) {
		t.Fatalf("the translation's statuses changed: %+v", statuses)
	}
	if !reflect.DeepEqual(got[0], statuses[0]) || !reflect.DeepEqual(got[2], statuses[2]) {
		t.Errorf("routes not refused changed: %+v, %+v", got[0], got[2])
	}
	c := meta.FindStatusCondition(got[1].Parents[0].Conditions, string(gwapiv1.RouteConditionAccepted))
	want := `Caddy did not take the route's rules for host "shared.example.com" of route table "80/" and serves it without them on caddy-0, caddy-1: unknown module: http.handlers.x`
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(gwapiv1.RouteReasonUnsupportedValue) || c.Message != want || c.ObservedGeneration != 4 {
		t.Errorf("Accepted of the refused route: %+v, want False UnsupportedValue %q at generation 4", c, want)
	}
	if r := meta.FindStatusCondition(got[1].Parents[0].Conditions, string(gwapiv1.RouteConditionResolvedRefs)); r == nil || r.Status != metav1.ConditionTrue {
		t.Errorf("ResolvedRefs of the refused route: %+v, want it kept", r)
	}
	if !reflect.DeepEqual(got[1].Parents[1], notAttached) {
		t.Errorf("the entry not attached changed: %+v", got[1].Parents[1])
	}
	if same := withRefusals(statuses, []pusher.TableError{{Table: "80/", Host: "x", Error: "whole"}}); &same[0] != &statuses[0] {
		t.Errorf("without refusals the statuses are copied")
	}
}

// TestProgrammedNamesRefusedRoutes: a host table taken without some routes is named in
// the Programmed condition with the routes not served.
func TestProgrammedNamesRefusedRoutes(t *testing.T) {
	c := programmedCondition(3, configOutcome{push: pusher.Result{Programmed: 0, Total: 1, TableErrors: []pusher.TableError{{
		Table: "80/", Host: "shared.example.com", Error: "E", Pods: []string{"caddy-0"},
		Refused: []caddyjson.RefusedSource{{Key: "HTTPRoute/tenant-b/b", Error: "e"}},
	}}}})
	want := `0/1 pods programmed: host "shared.example.com" of route table "80/" was taken by caddy-0 without the routes of HTTPRoute/tenant-b/b, which are not served: E`
	if c.Status != metav1.ConditionFalse || c.Message != want || strings.Contains(c.Message, "last good") {
		t.Fatalf("Programmed: %s %q, want False %q", c.Status, c.Message, want)
	}
}

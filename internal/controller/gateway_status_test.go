package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/pusher"
)

// TestProgrammedNamesHostTablesNotTaken: a host table some pods did not take is named in
// the Programmed condition once, with its pods and Caddy's error, before the other pods'
// errors.
func TestProgrammedNamesHostTablesNotTaken(t *testing.T) {
	c := programmedCondition(3, configOutcome{push: pusher.Result{
		Programmed: 1, Total: 3,
		Errors: []string{"pod pod-2: admin channel failed (500): gone"},
		TableErrors: []pusher.TableError{{Table: "80/", Host: "bad.example.com", Error: `table "80/" host "bad.example.com": missing closing )`,
			Pods: []string{"pod-0", "pod-1"}}},
	}})
	want := `1/3 pods programmed: host "bad.example.com" of route table "80/" was not taken by pod-0, pod-1, which keep serving ` +
		`its last good routes: table "80/" host "bad.example.com": missing closing ); pod pod-2: admin channel failed (500): gone`
	if c.Status != metav1.ConditionFalse || c.Message != want {
		t.Fatalf("Programmed: %s %q, want False %q", c.Status, c.Message, want)
	}
}

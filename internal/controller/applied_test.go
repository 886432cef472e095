package controller

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestAppliedMemo: an apply is skipped only for the same desired state at the same
// resourceVersion; a failed apply and a forgotten Gateway are applied again, and
// forgetting one Gateway keeps the others.
func TestAppliedMemo(t *testing.T) {
	var m appliedMemo
	a, b := types.NamespacedName{Namespace: "ns", Name: "a"}, types.NamespacedName{Namespace: "ns", Name: "b"}
	m.record(a, "Deployment/ns/a", "h1", "10", nil)
	m.record(b, "Deployment/ns/b", "h1", "11", nil)
	for _, c := range []struct {
		what            string
		gw              types.NamespacedName
		key, hash, live string
		want            bool
	}{
		{"same state and version", a, "Deployment/ns/a", "h1", "10", true},
		{"edited by someone", a, "Deployment/ns/a", "h1", "12", false},
		{"new desired state", a, "Deployment/ns/a", "h2", "10", false},
		{"unreadable live version", a, "Deployment/ns/a", "h1", "", false},
		{"another Gateway's object", a, "Deployment/ns/b", "h1", "11", false},
	} {
		if got := m.unchanged(c.gw, c.key, c.hash, c.live); got != c.want {
			t.Errorf("%s: unchanged = %v, want %v", c.what, got, c.want)
		}
	}
	m.record(a, "Deployment/ns/a", "h1", "10", errors.New("conflict"))
	if m.unchanged(a, "Deployment/ns/a", "h1", "10") {
		t.Error("a failed apply is still remembered")
	}
	m.record(a, "Deployment/ns/a", "h1", "10", nil)
	m.forget(a)
	if m.unchanged(a, "Deployment/ns/a", "h1", "10") || len(m.m) != 1 {
		t.Errorf("after forgetting Gateway a: %v", m.m)
	}
	if !m.unchanged(b, "Deployment/ns/b", "h1", "11") {
		t.Error("forgetting Gateway a lost Gateway b")
	}
}

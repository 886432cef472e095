package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// TestGatewayCountsWaitOutTheInterval: a status write that changes only the listeners'
// attachedRoutes is made at once after a quiet countsInterval, and otherwise waits until
// countsInterval after the last write, returning the time left; a write that changes
// anything else is made at once, with the counts as they are then.
func TestGatewayCountsWaitOutTheInterval(t *testing.T) {
	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "gw", UID: "u1", Generation: 1}}
	c, n := statusPatchCounting(t, gw)
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	r := &GatewayReconciler{Client: c, APIReader: c}
	r.statusTimes.clock = clk
	ctx := context.Background()

	write := func(at time.Duration, routes int32, reason string) time.Duration {
		t.Helper()
		clk.SetTime(time.Unix(1000, 0).Add(at))
		var cached gwapiv1.Gateway
		if err := c.Get(ctx, client.ObjectKeyFromObject(gw), &cached); err != nil {
			t.Fatal(err)
		}
		listeners := []gwapiv1.ListenerStatus{{Name: "http", AttachedRoutes: routes, SupportedKinds: []gwapiv1.RouteGroupKind{{Kind: "HTTPRoute"}}, Conditions: []metav1.Condition{}}}
		cond := metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: reason, ObservedGeneration: 1}
		wait, err := r.writeStatus(ctx, &cached, listeners, nil, addressReport{}, cond)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	stored := func() (int32, string) {
		t.Helper()
		var got gwapiv1.Gateway
		if err := c.Get(ctx, client.ObjectKeyFromObject(gw), &got); err != nil {
			t.Fatal(err)
		}
		return got.Status.Listeners[0].AttachedRoutes, got.Status.Conditions[0].Reason
	}

	steps := []struct {
		at          time.Duration
		routes      int32
		reason      string
		wantWait    time.Duration
		wantPatches int
		wantRoutes  int32
	}{
		{0, 1, "A", 0, 1, 1}, // the first write
		{100 * time.Millisecond, 2, "A", 900 * time.Millisecond, 1, 1}, // counts only: waits
		{200 * time.Millisecond, 3, "B", 0, 2, 3},                      // a condition changed: at once, with the counts
		{300 * time.Millisecond, 4, "B", 900 * time.Millisecond, 2, 3}, // counts only: waits for 200 ms + countsInterval
		{1100 * time.Millisecond, 4, "B", 100 * time.Millisecond, 2, 3},
		{1200 * time.Millisecond, 4, "B", 0, 3, 4}, // the interval has passed
		{5 * time.Second, 5, "B", 0, 4, 5},         // after a quiet interval: at once
	}
	for i, s := range steps {
		if wait := write(s.at, s.routes, s.reason); wait != s.wantWait {
			t.Fatalf("step %d: wait %v; want %v", i, wait, s.wantWait)
		}
		if routes, _ := stored(); n.patches != s.wantPatches || routes != s.wantRoutes {
			t.Fatalf("step %d: %d patches, stored attachedRoutes %d; want %d, %d", i, n.patches, routes, s.wantPatches, s.wantRoutes)
		}
	}
}

func TestCountsOnly(t *testing.T) {
	l := func(name string, routes int32) gwapiv1.ListenerStatus {
		return gwapiv1.ListenerStatus{Name: gwapiv1.SectionName(name), AttachedRoutes: routes}
	}
	cond := []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed"}}
	for name, c := range map[string]struct {
		current, next gwapiv1.GatewayStatus
		want          bool
	}{
		"counts":             {gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1), l("b", 2)}}, gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1), l("b", 3)}}, true},
		"a listener more":    {gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1)}}, gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1), l("b", 3)}}, false},
		"a listener renamed": {gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1)}}, gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("b", 2)}}, false},
		"a condition":        {gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 1)}}, gwapiv1.GatewayStatus{Listeners: []gwapiv1.ListenerStatus{l("a", 2)}, Conditions: cond}, false},
	} {
		if got := countsOnly(&c.current, &c.next, zeroGatewayCounts); got != c.want {
			t.Errorf("%s: countsOnly = %v; want %v", name, got, c.want)
		}
	}
	e := func(name string, routes int32) gwapiv1.ListenerEntryStatus {
		return gwapiv1.ListenerEntryStatus{Name: gwapiv1.SectionName(name), AttachedRoutes: routes}
	}
	for name, c := range map[string]struct {
		current, next gwapiv1.ListenerSetStatus
		want          bool
	}{
		"set counts":    {gwapiv1.ListenerSetStatus{Listeners: []gwapiv1.ListenerEntryStatus{e("a", 1)}}, gwapiv1.ListenerSetStatus{Listeners: []gwapiv1.ListenerEntryStatus{e("a", 4)}}, true},
		"set condition": {gwapiv1.ListenerSetStatus{Listeners: []gwapiv1.ListenerEntryStatus{e("a", 1)}}, gwapiv1.ListenerSetStatus{Listeners: []gwapiv1.ListenerEntryStatus{e("a", 4)}, Conditions: cond}, false},
	} {
		if got := countsOnly(&c.current, &c.next, zeroListenerSetCounts); got != c.want {
			t.Errorf("%s: countsOnly = %v; want %v", name, got, c.want)
		}
	}
}

// TestListenerSetCountsWaitOutTheInterval: a ListenerSet's status write that changes only
// its listeners' attachedRoutes waits as a Gateway's does; a condition change goes at once.
func TestListenerSetCountsWaitOutTheInterval(t *testing.T) {
	ls := &gwapiv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "set", Generation: 1}}
	c, n := statusPatchCounting(t, ls)
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	r := &GatewayReconciler{Client: c}
	r.setStatusTimes.clock = clk
	programmed := metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed", ObservedGeneration: 1}
	write := func(at time.Duration, routes int32, reason string) time.Duration {
		t.Helper()
		clk.SetTime(time.Unix(1000, 0).Add(at))
		accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: reason, ObservedGeneration: 1}
		wait, err := r.writeListenerSetStatuses(context.Background(), []translator.ListenerSetStatus{{
			Namespace: "app", Name: "set", Generation: 1, Accepted: accepted,
			Listeners: []gwapiv1.ListenerEntryStatus{{Name: "http", AttachedRoutes: routes, Conditions: []metav1.Condition{accepted}}},
		}}, programmed)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	for i, s := range []struct {
		at          time.Duration
		routes      int32
		reason      string
		wantWait    time.Duration
		wantPatches int
	}{
		{0, 1, "Accepted", 0, 1},
		{100 * time.Millisecond, 2, "Accepted", 900 * time.Millisecond, 1},
		{200 * time.Millisecond, 2, "Other", 0, 2},
		{1200 * time.Millisecond, 3, "Other", 0, 3},
	} {
		if wait := write(s.at, s.routes, s.reason); wait != s.wantWait || n.patches != s.wantPatches {
			t.Fatalf("step %d: wait %v, %d patches; want %v, %d", i, wait, n.patches, s.wantWait, s.wantPatches)
		}
	}
}

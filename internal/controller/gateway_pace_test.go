package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
)

func TestReconcilePace(t *testing.T) {
	gw := types.NamespacedName{Namespace: "ns", Name: "gw"}
	other := types.NamespacedName{Namespace: "ns", Name: "other"}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	p := reconcilePace{clocked: clocked{clk}}

	if w := p.wait(gw); w != 0 {
		t.Fatalf("a Gateway never reconciled waits %s", w)
	}
	p.routeChanged(gw) // no reconcile runs: nothing to gather
	end := p.begin(gw)
	clk.Step(20 * time.Millisecond)
	end()
	if w := p.wait(gw); w != 0 {
		t.Fatalf("after a reconcile during which nothing changed, the next waits %s", w)
	}
	p.routeChanged(gw) // after the reconcile ended: a lone change
	if w := p.wait(gw); w != 0 {
		t.Fatalf("a change that arrived after the reconcile ended waits %s", w)
	}

	end = p.begin(gw)
	p.routeChanged(gw) // the only change while a reconcile for another cause runs
	end()
	if w := p.wait(gw); w != 0 {
		t.Fatalf("after a reconcile during which one route changed, the next waits %s", w)
	}

	end = p.begin(gw)
	p.routeChanged(gw)
	p.routeChanged(gw)
	p.routeChanged(other)
	clk.Step(20 * time.Millisecond)
	end()
	clk.Step(30 * time.Millisecond)
	if w, want := p.wait(gw), burstPace-30*time.Millisecond; w != want {
		t.Fatalf("after a reconcile during which routes changed twice, the next waits %s, want %s", w, want)
	}
	if w := p.wait(other); w != 0 {
		t.Fatalf("another Gateway's change made it wait %s", w)
	}
	clk.Step(burstPace)
	if w := p.wait(gw); w != 0 {
		t.Fatalf("after burstPace, a reconcile waits %s", w)
	}

	// The reconcile that follows, during which nothing changes, ends the burst.
	end = p.begin(gw)
	end()
	if w := p.wait(gw); w != 0 {
		t.Fatalf("after a quiet reconcile, the next waits %s", w)
	}

	end = p.begin(gw)
	p.routeChanged(gw)
	p.routeChanged(gw)
	end()
	p.forget(gw)
	if w := p.wait(gw); w != 0 {
		t.Fatalf("a forgotten Gateway waits %s", w)
	}
}

// TestReconcilePaceBursting: a burst lasts from the second change during a reconcile to
// the end of a reconcile during which routes changed at most once, which tells calmed.
func TestReconcilePaceBursting(t *testing.T) {
	gw := types.NamespacedName{Namespace: "ns", Name: "gw"}
	var calmed []types.NamespacedName
	p := reconcilePace{calmed: func(g types.NamespacedName) { calmed = append(calmed, g) }}

	end := p.begin(gw)
	p.routeChanged(gw)
	if p.bursting(gw) {
		t.Fatal("one change during a reconcile is a burst")
	}
	p.routeChanged(gw)
	if !p.bursting(gw) {
		t.Fatal("two changes during a reconcile are no burst")
	}
	end()
	end = p.begin(gw)
	if !p.bursting(gw) || len(calmed) != 0 {
		t.Fatalf("bursting %v, calmed %v before a quiet reconcile ended; want a burst, none calmed", p.bursting(gw), calmed)
	}
	p.routeChanged(gw)
	end()
	if p.bursting(gw) || len(calmed) != 1 || calmed[0] != gw {
		t.Fatalf("after a reconcile with one change: bursting %v, calmed %v; want the burst over, told once", p.bursting(gw), calmed)
	}
	p.begin(gw)()
	if len(calmed) != 1 {
		t.Fatalf("calmed %v; a quiet reconcile after no burst told it again", calmed)
	}
}

package controller

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
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
	end = p.begin(gw)
	p.routeChanged(gw)
	p.routeChanged(gw)
	p.forget(gw) // deleted while it was reconciled
	if again := end(); again != 0 {
		t.Fatalf("a Gateway forgotten during a reconcile that ends in a burst is looked at again after %s", again)
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

// TestReconcilePaceCountsTheWait: the changes that arrive while a reconcile waits out
// burstPace count for the burst: a short reconcile after the wait, during which nothing
// changes, does not end a burst that goes on; it asks to look again, and the reconcile
// that finds nothing more changed ends it.
func TestReconcilePaceCountsTheWait(t *testing.T) {
	gw := types.NamespacedName{Namespace: "ns", Name: "gw"}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	calmed := 0
	p := reconcilePace{clocked: clocked{clk}, calmed: func(types.NamespacedName) { calmed++ }}

	end := p.begin(gw)
	p.routeChanged(gw)
	if again := end(); again != 0 {
		t.Fatalf("a reconcile with one change asks to look again after %s", again)
	}
	p.routeChanged(gw) // no reconcile runs and none ended in a burst: a lone change, not counted

	end = p.begin(gw)
	p.routeChanged(gw)
	p.routeChanged(gw)
	if again := end(); again != burstPace {
		t.Fatalf("a reconcile that ends in a burst asks to look again after %s, want %s", again, burstPace)
	}
	p.routeChanged(gw) // during the wait
	p.routeChanged(gw)
	clk.Step(burstPace)
	end = p.begin(gw)
	if again := end(); again != burstPace || calmed != 0 {
		t.Fatalf("after two changes during the wait and none during the reconcile: look again after %s, calmed %d times; want %s and none", again, calmed, burstPace)
	}
	if !p.bursting(gw) {
		t.Fatal("a burst that goes on during the wait is over")
	}
	p.routeChanged(gw) // one change during the wait: the burst is over
	clk.Step(burstPace)
	end = p.begin(gw)
	if again := end(); again != 0 || calmed != 1 || p.bursting(gw) {
		t.Fatalf("after one change during the wait: look again after %s, calmed %d times, bursting %v; want none, once, false", again, calmed, p.bursting(gw))
	}
	p.routeChanged(gw) // after a calm reconcile: not counted
	p.routeChanged(gw)
	end = p.begin(gw)
	if again := end(); again != 0 {
		t.Fatalf("changes after a calm reconcile ended counted for the next: look again after %s", again)
	}
}

// TestReconcilePaceRun: a reconcile that must wait is requeued without running; one that
// ends in a burst looks again after burstPace unless it asked for sooner or failed.
func TestReconcilePaceRun(t *testing.T) {
	gw := types.NamespacedName{Namespace: "ns", Name: "gw"}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	p := reconcilePace{clocked: clocked{clk}}
	ran := 0
	// reconcile is a reconcile during which routes change changes times, and that
	// returns res and err.
	reconcile := func(changes int, res ctrl.Result, err error) func() (ctrl.Result, error) {
		return func() (ctrl.Result, error) {
			ran++
			for range changes {
				p.routeChanged(gw)
			}
			return res, err
		}
	}
	failed := errors.New("failed")
	for _, c := range []struct {
		step     string
		changes  int
		res      ctrl.Result
		err      error
		want     time.Duration
		wantErrs bool
	}{
		{step: "a calm reconcile asking to look again later", res: ctrl.Result{RequeueAfter: time.Hour}, want: time.Hour},
		{step: "a reconcile that begins a burst", changes: 2, want: burstPace},
		{step: "a reconcile in a burst asking for sooner", changes: 2, res: ctrl.Result{RequeueAfter: time.Millisecond}, want: time.Millisecond},
		{step: "a reconcile in a burst asking for later", changes: 2, res: ctrl.Result{RequeueAfter: time.Hour}, want: burstPace},
		{step: "a failed reconcile in a burst", changes: 2, err: failed, wantErrs: true},
		{step: "the reconcile that ends the burst"},
	} {
		res, err := p.run(gw, reconcile(c.changes, c.res, c.err))
		if res.RequeueAfter != c.want || (err != nil) != c.wantErrs {
			t.Fatalf("%s: requeue after %s, error %v; want %s, error %t", c.step, res.RequeueAfter, err, c.want, c.wantErrs)
		}
		if wait := p.wait(gw); wait > 0 {
			before := ran
			if res, err := p.run(gw, reconcile(0, ctrl.Result{}, nil)); ran != before || res.RequeueAfter != wait || err != nil {
				t.Fatalf("after %s: a reconcile during the wait of %s ran (%t), requeue after %s, error %v",
					c.step, wait, ran != before, res.RequeueAfter, err)
			}
			clk.Step(wait)
		}
	}
}

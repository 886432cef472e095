package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// burstPace is the least time from the end of a Gateway's reconcile that ended in a burst
// of route changes to the start of its next reconcile. A reconcile translates all of the
// Gateway's routes and pushes what changed: during a burst of route changes, each
// reconcile would take the few changes that arrived while the one before ran (six to
// eight in a burst of 1,000 new routes), and the operator and Caddy would spend in
// proportion to the routes times the reconciles. Waiting gathers a burst's changes into
// one reconcile per burstPace.
//
// A burst begins when routes of the Gateway change more than once while one of its
// reconciles runs, and goes on while they change more than once from the end of one
// reconcile to the end of the next (the wait and the reconcile). A lone change waits for
// nothing: one that arrives while none of its Gateway's reconciles runs, or the only one
// that arrives while one runs (for some other cause: a Pod, a Service, the counts'
// requeue).
const burstPace = 100 * time.Millisecond

// reconcilePace decides, per Gateway, whether a reconcile waits out burstPace.
type reconcilePace struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*paceEntry
	clocked
	// calmed, when set, is told (outside mu) that a burst of changes to a Gateway's routes
	// is over.
	calmed func(gw types.NamespacedName)
}

type paceEntry struct {
	// running says a reconcile of the Gateway runs.
	running bool
	// changes counts the route changes since the last reconcile ended when it ended in a
	// burst (the next one takes them), else since the one that runs began.
	changes int
	// burst says the last reconcile, which ended at end, ended in a burst.
	burst bool
	end   time.Time
}

// entry returns gw's entry, made when missing; mu must be held.
func (p *reconcilePace) entry(gw types.NamespacedName) *paceEntry {
	if p.m == nil {
		p.m = map[types.NamespacedName]*paceEntry{}
	}
	e := p.m[gw]
	if e == nil {
		e = &paceEntry{}
		p.m[gw] = e
	}
	return e
}

// routeChanged records that a route of gw changed.
func (p *reconcilePace) routeChanged(gw types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.m[gw]; e != nil && (e.running || e.burst) {
		e.changes++
	}
}

// wait is how long a reconcile of gw starting now must wait: the rest of burstPace after
// a reconcile that ended in a burst, else nothing.
func (p *reconcilePace) wait(gw types.NamespacedName) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[gw]
	if e == nil || !e.burst {
		return 0
	}
	return max(e.end.Add(burstPace).Sub(p.now()), 0)
}

// bursting reports whether routes of gw change in a burst: the last reconcile ended in
// one, or they changed more than once so far during the one that runs.
func (p *reconcilePace) bursting(gw types.NamespacedName) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[gw]
	return e != nil && (e.burst || e.running && e.changes > 1)
}

// run runs reconcile, a reconcile of gw, once burstPace allows: until then it is
// requeued for the rest of the wait. A reconcile that ends in a burst and succeeds looks
// again after burstPace, or sooner when it asked for that itself.
func (p *reconcilePace) run(gw types.NamespacedName, reconcile func() (ctrl.Result, error)) (res ctrl.Result, err error) {
	if wait := p.wait(gw); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	end := p.begin(gw)
	defer func() {
		if again := end(); again > 0 && err == nil && (res.RequeueAfter == 0 || again < res.RequeueAfter) {
			res.RequeueAfter = again
		}
	}()
	return reconcile()
}

// begin records that a reconcile of gw begins. The function it returns records its end,
// tells calmed when it ends a burst, and returns when to look again after one that ends
// in a burst (burstPace): the reconcile that finds nothing more changed ends it.
func (p *reconcilePace) begin(gw types.NamespacedName) (end func() (again time.Duration)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entry(gw)
	e.running = true
	return func() time.Duration {
		p.mu.Lock()
		was := e.burst
		e.running, e.burst, e.end, e.changes = false, e.changes > 1, p.now(), 0
		burst, kept := e.burst, p.m[gw] == e
		p.mu.Unlock()
		if was && !burst && p.calmed != nil {
			p.calmed(gw)
		}
		if burst && kept { // a forgotten Gateway is not looked at again
			return burstPace
		}
		return 0
	}
}

// forget drops gw's entry.
func (p *reconcilePace) forget(gw types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, gw)
}

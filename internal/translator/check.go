package translator

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Tuning of checkInOrder: a table of at least helpersFrom pending routes gets helper
// goroutines, and routes are checked routesPerChunk at a time.
var helpersFrom, routesPerChunk = 512, 64

// checkInOrder converts and validates the rules of every pending route and hands the
// routes to each in order, each once its rules are checked. Unlike attaching (first
// come, first served), checking treats each route on its own, and in a large table it
// is mostly waiting for the routes' objects to come in from memory; so helpers (up to
// GOMAXPROCS-1, each with its own caches and blocks) check chunks of routes ahead,
// while this goroutine attaches those that are ready, and checks the next chunk
// itself when the one it waits for is not. The result is the same whoever checks.
func (t *translation) checkInOrder(pending []pendingRoute, each func(*pendingRoute)) {
	helpers := min(runtime.GOMAXPROCS(0)-1, len(pending)/helpersFrom)
	if helpers < 1 {
		t.checkAll(pending)
		for i := range pending {
			each(&pending[i])
		}
		return
	}
	chunks := (len(pending) + routesPerChunk - 1) / routesPerChunk
	chunk := func(c int) []pendingRoute {
		return pending[c*routesPerChunk : min((c+1)*routesPerChunk, len(pending))]
	}
	ready := make([]chan struct{}, chunks)
	for c := range ready {
		ready[c] = make(chan struct{})
	}
	var next atomic.Int64
	// checkNext checks the first chunk nobody took yet, and reports whether there was one.
	checkNext := func(f *translation) bool {
		c := int(next.Add(1) - 1)
		if c >= chunks {
			return false
		}
		f.checkAll(chunk(c))
		close(ready[c])
		return true
	}
	var wg sync.WaitGroup
	for range helpers {
		f := t.fork()
		wg.Go(func() {
			for checkNext(f) {
			}
		})
	}
	for c := range chunks {
		for !closed(ready[c]) && checkNext(t) {
		}
		<-ready[c]
		part := chunk(c)
		for i := range part {
			each(&part[i])
		}
	}
	wg.Wait()
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (t *translation) checkAll(pending []pendingRoute) {
	for i := range pending {
		t.checkOne(&pending[i])
	}
}

// checkOne converts and validates the rules of r, unless a Memo kept them. A panic
// while checking (a bug, never the user's) fails r alone, whichever goroutine checks
// it: the route is refused with a message saying so, and the rest of the Gateway is
// translated and served. Without the recovery a panic on a helper goroutine would end
// the operator's process.
func (t *translation) checkOne(r *pendingRoute) {
	defer func() {
		t.reads = nil
		if p := recover(); p != nil {
			r.checked = &checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs,
				unsupported: fmt.Sprintf("internal error while checking the route's rules, please report it: %v", p)}
		}
	}()
	if c := t.lookup(r); c != nil {
		r.checked, r.kept = c, true
		return
	}
	t.reads = t.memo.reading(r)
	if beforeCheck != nil {
		beforeCheck(r.meta.Namespace, r.meta.Name)
	}
	r.checked = t.check(r)
	if t.reads != nil {
		r.checked.reads = *t.reads
	}
}

// beforeCheck, when set, is called before each route is checked; tests set it.
var beforeCheck func(namespace, name string)

// fork returns a translation that shares t's read-only indexes and has caches and
// blocks of its own, for checking routes beside t.
func (t *translation) fork() *translation {
	return &translation{
		in:           t.in,
		gw:           t.gw,
		domain:       t.domain,
		services:     t.services,
		secrets:      t.secrets,
		namespaces:   t.namespaces,
		listeners:    t.listeners,
		sets:         t.sets,
		policies:     t.policies,
		clientCert:   t.clientCert,
		memo:         t.memo,
		backendCache: map[resolvedKey]resolved{},
		regexErrs:    map[string]string{},
		emittedErrs:  map[string]string{},
	}
}

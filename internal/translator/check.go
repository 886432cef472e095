package translator

import (
	"runtime"
	"sync"
)

// routesPerWorker is the fewest pending routes worth a goroutine of their own in
// checkRoutes: below it, starting goroutines and their caches costs more than it saves.
var routesPerWorker = 256

// checkRoutes converts and validates the rules of every pending route. Unlike
// attaching (first come, first served), this step treats each route on its own, and
// in a large table it is mostly waiting for the routes' objects to come in from
// memory; so a large table is cut into consecutive parts, one per goroutine (up to
// GOMAXPROCS), each with its own caches and blocks. The result is the same however
// the table is cut.
func (t *translation) checkRoutes(pending []pendingRoute) {
	workers := min(runtime.GOMAXPROCS(0), len(pending)/routesPerWorker)
	if workers < 2 {
		t.checkAll(pending)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		part := pending[len(pending)*w/workers : len(pending)*(w+1)/workers]
		f := t
		if w > 0 {
			f = t.fork()
		}
		wg.Go(func() { f.checkAll(part) })
	}
	wg.Wait()
}

func (t *translation) checkAll(pending []pendingRoute) {
	for i := range pending {
		r := &pending[i]
		if r.http != nil {
			r.checked = t.checkRules(r.http)
		} else {
			r.checked = t.checkGRPCRules(r.grpc)
		}
	}
}

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
		backendCache: map[resolvedKey]resolved{},
		regexErrs:    map[string]string{},
	}
}

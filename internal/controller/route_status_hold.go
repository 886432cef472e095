package controller

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// statusHoldMax is the longest a route's status write waits for a burst of changes to the
// routes of its Gateways to end. A status write costs the API server about as much as
// the create it answers: written during a burst of a thousand new routes, the statuses
// slow the burst's own creates (and so its routes' arrival at Caddy) by about a third.
// They wait, and go out together when the burst is over (reconcilePace.calmed), or after
// statusHoldMax for a burst that does not end.
const statusHoldMax = 5 * time.Second

// statusHold holds the status writes of routes whose Gateways' routes change in a burst.
type statusHold struct {
	// bursting reports whether a Gateway's routes change in a burst
	// (reconcilePace.bursting); nil holds nothing.
	bursting func(gw types.NamespacedName) bool
	clocked

	mu   sync.Mutex
	held map[routeKey]heldWrite
}

// heldWrite is a route's held status write: since when, for which Gateways' bursts.
type heldWrite struct {
	since time.Time
	gws   []types.NamespacedName
}

// holdDuringBursts makes r's writes wait out the bursts p sees, and p tell r when one is
// over.
func (r *RouteStatusReconciler) holdDuringBursts(p *reconcilePace) {
	r.hold.bursting, p.calmed = p.bursting, r.burstOver
}

// wait is how long the status write of route, whose entries gws want, must wait: the
// rest of statusHoldMax since it was first held, while one of gws bursts; else nothing,
// and the route is no longer held.
func (h *statusHold) wait(route routeKey, gws []types.NamespacedName) time.Duration {
	if h.bursting == nil || !slices.ContainsFunc(gws, h.bursting) {
		h.drop(route)
		return 0
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	w, ok := h.held[route]
	if !ok {
		w.since = now
	}
	rest := w.since.Add(statusHoldMax).Sub(now)
	if rest <= 0 {
		delete(h.held, route)
		return 0
	}
	if h.held == nil {
		h.held = map[routeKey]heldWrite{}
	}
	w.gws = gws
	h.held[route] = w
	return rest
}

// release returns the routes held for gw's burst, which is over; they stay held (since
// their first hold) until written.
func (h *statusHold) release(gw types.NamespacedName) []routeKey {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []routeKey
	for route, w := range h.held {
		if slices.Contains(w.gws, gw) {
			out = append(out, route)
		}
	}
	return out
}

// drop forgets route.
func (h *statusHold) drop(route routeKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, route)
}

package controller

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// backendsMemo remembers, per Gateway, the backend Service keys of each of its routes
// (routeKind.backendKeys) and how many of them name each Service. A route's keys come
// from its namespace and spec only: while the route keeps its UID (which fixes its
// namespace) and its generation (which the API server raises on every change to its
// spec), so do its keys, and a reconcile in which no route changed reads no route's
// rules. Routes no longer listed for the Gateway are forgotten by the reconcile that
// misses them, and the Gateway's entries with the Gateway.
type backendsMemo struct {
	perGateway[*gatewayBackends]
}

// gatewayBackends are the backend keys of one Gateway's routes. Only the reconciles of
// the Gateway use them, and those never run at once: no lock is needed.
type gatewayBackends struct {
	// routes holds the keys of each route by its UID.
	routes map[types.UID]*routeBackends
	// counts holds how many routes' keys name each Service.
	counts map[client.ObjectKey]int
	// distinct are the keys of counts, sorted; nil when counts changed since.
	distinct []client.ObjectKey
	// walk numbers the walks of the routes.
	walk uint64
}

// routeBackends are one route's backend keys.
type routeBackends struct {
	generation int64
	keys       []client.ObjectKey
	// walk is the last walk that saw the route.
	walk uint64
}

// keys returns the distinct Services that routes, all the routes of Gateway gw, send
// traffic to, and those of extra, sorted by namespace and name; the caller only reads
// them. A route without a UID (one the API server did not store) is walked every time.
func (m *backendsMemo) keys(gw types.NamespacedName, routes []kindRoutes, extra []client.ObjectKey) []client.ObjectKey {
	g := m.of(gw)
	g.walk++
	seen := 0
	for _, l := range routes {
		for _, rt := range l.items {
			uid := rt.GetUID()
			if uid == "" {
				extra = append(extra, l.kind.backendKeys(rt)...)
				continue
			}
			e := g.routes[uid]
			if e == nil {
				e = &routeBackends{}
				g.routes[uid] = e
			} else if e.walk == g.walk {
				continue // listed twice
			}
			if gen := rt.GetGeneration(); e.keys == nil || e.generation != gen {
				g.count(e.keys, -1)
				e.generation, e.keys = gen, l.kind.backendKeys(rt)
				if e.keys == nil {
					e.keys = []client.ObjectKey{} // walked: no Services
				}
				g.count(e.keys, 1)
			}
			e.walk = g.walk
			seen++
		}
	}
	if seen < len(g.routes) {
		g.sweep()
	}
	return g.with(extra)
}

// of returns the memo of gw's routes, a new one the first time. The reconciles of one
// Gateway never run at once, so no other can store one meanwhile.
func (m *backendsMemo) of(gw types.NamespacedName) *gatewayBackends {
	if g, ok := m.load(gw); ok {
		return g
	}
	g := &gatewayBackends{routes: map[types.UID]*routeBackends{}, counts: map[client.ObjectKey]int{}}
	m.store(gw, g)
	return g
}

// count adds delta to the counts of keys.
func (g *gatewayBackends) count(keys []client.ObjectKey, delta int) {
	for _, key := range keys {
		n := g.counts[key] + delta
		switch n {
		case 0:
			delete(g.counts, key)
			g.distinct = nil
		case delta: // a Service no route named before
			g.counts[key] = n
			g.distinct = nil
		default:
			g.counts[key] = n
		}
	}
}

// sweep forgets the routes the current walk did not see.
func (g *gatewayBackends) sweep() {
	for uid, e := range g.routes {
		if e.walk != g.walk {
			g.count(e.keys, -1)
			delete(g.routes, uid)
		}
	}
}

// with returns the distinct keys of the routes and those of extra.
func (g *gatewayBackends) with(extra []client.ObjectKey) []client.ObjectKey {
	if g.distinct == nil {
		g.distinct = make([]client.ObjectKey, 0, len(g.counts))
		for key := range g.counts {
			g.distinct = append(g.distinct, key)
		}
		slices.SortFunc(g.distinct, compareObjectKeys)
	}
	out := g.distinct
	for _, key := range extra {
		if g.counts[key] == 0 && !slices.Contains(out[len(g.distinct):], key) {
			if len(out) == len(g.distinct) {
				out = slices.Clip(slices.Clone(out)) // never append to the memo's own
			}
			out = append(out, key)
		}
	}
	if len(out) > len(g.distinct) {
		slices.SortFunc(out, compareObjectKeys)
	}
	return out
}

func compareObjectKeys(a, b client.ObjectKey) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

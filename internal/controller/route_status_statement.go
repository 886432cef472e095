package controller

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// statementKey names what one Gateway states for the routes of one kind.
type statementKey struct {
	gateway types.NamespacedName
	kind    string
}

// statement is what a Gateway last stated for the routes of one kind with statuses
// (WantAll), in the order of those statuses, with the want each statement left. The
// translation orders its statuses by namespace and name every time, so the next
// statement finds each route's last want by walking both lists side by side, without a
// map lookup, even when routes came or went before it.
type statement struct {
	// routes are the routes stated, in order; spare is the previous list, emptied, for
	// the next statement to fill.
	routes, spare []statedRoute
	// sets are the Gateway's ListenerSets the statement was made with.
	sets []types.NamespacedName
}

// statedRoute is a route a statement named and the want it left for it.
type statedRoute struct {
	namespace, name string
	want            *routeWant
}

// WantAll states gw's entries (as Want, with gw's ListenerSets sets) for the routes of
// kind named by keys: the parents of statuses for the routes statuses name (statuses
// of other kinds are skipped), none for the others. Statuses name routes of keys only,
// each once: the translation's statuses of the routes that keys name.
//
// A route whose statuses' entry is the one its last want holds (want not dropped or
// replaced since, equal entries and sets) costs no map lookup when the statuses are in
// the order of the last statement: the common case of a reconcile, whose translation
// changed few routes if any. Every other route goes through Want, so a changed want is
// queued as always; statuses in another order only cost more lookups.
func (r *RouteStatusReconciler) WantAll(kind string, gw types.NamespacedName, sets []types.NamespacedName, statuses []translator.RouteStatus, keys []client.ObjectKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := statementKey{gateway: gw, kind: kind}
	st := r.statements[key]
	if st == nil {
		st = &statement{}
	}
	gone := missing(st.sets, sets)
	st.sets = slices.Clone(sets)
	last, next := st.routes, st.spare[:0]
	var dropped []statedRoute
	j := 0
	for i := range statuses {
		s := &statuses[i]
		if s.Kind != kind {
			continue
		}
		for j < len(last) && last[j].before(s) {
			dropped = append(dropped, last[j]) // a route stated last time and not now
			j++
		}
		if j < len(last) && last[j].names(s) {
			j++
			if last[j-1].holds(s, sets) {
				next = append(next, last[j-1])
				continue
			}
		}
		route := routeKey{Kind: kind, Namespace: s.Namespace, Name: s.Name}
		next = append(next, statedRoute{namespace: s.Namespace, name: s.Name,
			want: r.want(route, gw, s.Parents, r.setsWithGone(route, gw, sets, gone))})
	}
	r.withdraw(kind, gw, sets, append(dropped, last[j:]...), keys)
	clear(last)
	st.routes, st.spare = next, last[:0]
	switch {
	case len(next) == 0:
		delete(r.statements, key)
	case r.statements == nil:
		r.statements = map[statementKey]*statement{key: st}
	default:
		r.statements[key] = st
	}
	if len(next) < len(keys) {
		r.wantNone(kind, gw, sets, gone, statuses, keys)
	}
}

// before reports whether the route comes before the one s names, in the order of the
// translation's statuses.
func (at *statedRoute) before(s *translator.RouteStatus) bool {
	return cmp.Or(cmp.Compare(at.namespace, s.Namespace), cmp.Compare(at.name, s.Name)) < 0
}

// names reports whether s is the route's status.
func (at *statedRoute) names(s *translator.RouteStatus) bool {
	return at.name == s.Name && at.namespace == s.Namespace
}

// holds reports whether the route's last want is in wants still and holds what s and
// sets state.
func (at *statedRoute) holds(s *translator.RouteStatus, sets []types.NamespacedName) bool {
	return !at.want.gone && parentsEqual(at.want.parents, s.Parents) && slices.Equal(at.want.sets, sets)
}

// withdraw states, with mu held, no entries of gw for the routes of kind it stated last
// time (dropped) that keys do not name either: a route that named only a ListenerSet
// that is gone (keys name the routes of gw and of its sets). Its entries for that set
// go as well: the want's sets are those of its last want with sets.
func (r *RouteStatusReconciler) withdraw(kind string, gw types.NamespacedName, sets []types.NamespacedName, dropped []statedRoute, keys []client.ObjectKey) {
	if len(dropped) == 0 {
		return
	}
	listed := make(map[client.ObjectKey]bool, len(keys))
	for _, k := range keys {
		listed[k] = true
	}
	for _, d := range dropped {
		if d.want.gone || listed[client.ObjectKey{Namespace: d.namespace, Name: d.name}] {
			continue
		}
		all := slices.Clone(sets)
		for _, s := range d.want.sets {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
		}
		r.want(routeKey{Kind: kind, Namespace: d.namespace, Name: d.name}, gw, nil, all)
	}
}

// wantNone states, with mu held, no entries of gw for the routes of kind that keys
// name and statuses do not.
func (r *RouteStatusReconciler) wantNone(kind string, gw types.NamespacedName, sets, gone []types.NamespacedName, statuses []translator.RouteStatus, keys []client.ObjectKey) {
	stated := make(map[client.ObjectKey]bool, len(statuses))
	for i := range statuses {
		if statuses[i].Kind == kind {
			stated[client.ObjectKey{Namespace: statuses[i].Namespace, Name: statuses[i].Name}] = true
		}
	}
	for _, k := range keys {
		if !stated[k] {
			route := routeKey{Kind: kind, Namespace: k.Namespace, Name: k.Name}
			r.want(route, gw, nil, r.setsWithGone(route, gw, sets, gone))
		}
	}
}

// missing returns the ListenerSets of last that sets lacks: those gone since.
func missing(last, sets []types.NamespacedName) []types.NamespacedName {
	var out []types.NamespacedName
	for _, s := range last {
		if !slices.Contains(sets, s) {
			out = append(out, s)
		}
	}
	return out
}

// setsWithGone returns, with mu held, sets and the ListenerSets of gone that the route's
// last want of gw has entries for. A set that is gone takes its entries along: the writer
// replaces the entries of the sets a want names, from a route that names the Gateway too
// as from one that named only the set (withdraw).
func (r *RouteStatusReconciler) setsWithGone(route routeKey, gw types.NamespacedName, sets, gone []types.NamespacedName) []types.NamespacedName {
	cur := r.wants[route][gw]
	if len(gone) == 0 || cur == nil {
		return sets
	}
	out := sets
	for _, g := range gone {
		names := func(p gwapiv1.RouteParentStatus) bool {
			return refersToListenerSet(p.ParentRef, []types.NamespacedName{g}, route.Namespace)
		}
		if slices.ContainsFunc(cur.parents, names) {
			out = append(slices.Clip(out), g)
		}
	}
	return out
}

package translator

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// routesInAttachOrder returns the routes of the input with a parentRef to the Gateway,
// oldest first (then by namespace/name, then kind). Attaching in this order makes the
// HTTPRoute/GRPCRoute hostname conflict rule a first-come check: the route attached
// first wins. Routes without such a parentRef would attach nowhere and get no status.
func (t *translation) routesInAttachOrder() []pendingRoute {
	return inAttachOrder(t.pendingRoutes())
}

// nameKey is what the name order compares of a pending route, copied next to the
// others so that sorting thousands of routes does not visit each route every time.
type nameKey struct {
	// ns and kind are the ranks of the route's namespace among those of the pending
	// routes and of its kind's name among the kinds' names.
	ns, kind int32
	name     string
	// prefix is the stringPrefix of name.
	prefix uint64
}

// compareNameKeys orders the name keys of the routes at positions i and j by namespace,
// name, kind and position. It compares integers only unless the names' first 8 bytes
// agree.
func compareNameKeys(keys []nameKey, i, j int32) int {
	a, b := &keys[i], &keys[j]
	switch {
	case a.ns < b.ns, a.ns == b.ns && a.prefix < b.prefix:
		return -1
	case a.ns > b.ns, a.prefix > b.prefix:
		return 1
	}
	return compareNameTails(a, b, i, j)
}

// compareNameTails is compareNameKeys for keys of one namespace and name prefix.
func compareNameTails(a, b *nameKey, i, j int32) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(i, j))
}

// nameOrder returns the positions of routes sorted by namespace, name and kind (then
// position), and the keys it compared.
func nameOrder(routes []pendingRoute) ([]int32, []nameKey) {
	nsRank := map[string]int32{}
	n := 0
	for i := range routes {
		nsRank[routes[i].meta.Namespace] = 0
		n += len(routes[i].meta.Name)
	}
	// Namespaces are few: compare their ranks rather than the strings.
	for i, ns := range slices.Sorted(maps.Keys(nsRank)) {
		nsRank[ns] = int32(i)
	}
	// The names are copied into one string, so that comparing them does not reach
	// into every route's object.
	var names strings.Builder
	names.Grow(n)
	for i := range routes {
		names.WriteString(routes[i].meta.Name)
	}
	all := names.String()
	keys := make([]nameKey, len(routes))
	order := make([]int32, len(routes))
	// Routes come grouped by kind (pendingRoutes): the kind is ranked once per group.
	kind, kindRank := (*routeKind)(nil), int32(0)
	for i := range routes {
		m := routes[i].meta
		if routes[i].kind != kind {
			kind, kindRank = routes[i].kind, kindNameRank(routes[i].kind)
		}
		keys[i] = nameKey{ns: nsRank[m.Namespace], kind: kindRank, name: all[:len(m.Name)], prefix: stringPrefix(m.Name)}
		all = all[len(m.Name):]
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int { return compareNameKeys(keys, i, j) })
	return order, keys
}

// kindNameRank is the rank of k's name among the names of the route kinds.
func kindNameRank(k *routeKind) int32 {
	rank := int32(0)
	for _, o := range routeKinds {
		if o.name < k.name {
			rank++
		}
	}
	return rank
}

// inAttachOrder sorts routes (pendingRoutes) in place, oldest first, then by
// namespace/name, then kind, ranks their age, and notes the position of each route's
// status (statusRank). Strings are compared in one sort only, by name (nameOrder): the
// attach order compares the creation time and the route's rank there.
func inAttachOrder(routes []pendingRoute) []pendingRoute {
	byName, keys := nameOrder(routes)
	rankStatuses(routes, byName, keys)
	// names[i] is the rank of the namespace/name of routes[i] among those of the
	// routes: routes of two kinds share it.
	names := make([]int32, len(routes))
	sortKeys := make([]attachKey, len(routes))
	for rank, i := range byName {
		if rank > 0 {
			p := byName[rank-1]
			names[i] = names[p]
			if keys[p].ns != keys[i].ns || keys[p].name != keys[i].name {
				names[i]++
			}
		}
		created := routes[i].meta.CreationTimestamp.Time
		sortKeys[i] = attachKey{sec: created.Unix(), rest: uint64(created.Nanosecond())<<32 | uint64(rank)}
	}
	order := byName
	slices.SortFunc(order, func(i, j int32) int { return compareAttachKeys(&sortKeys[i], &sortKeys[j]) })
	for n, i := range order {
		if n > 0 {
			p := order[n-1]
			routes[i].age = routes[p].age
			if sortKeys[p].sec != sortKeys[i].sec || sortKeys[p].rest>>32 != sortKeys[i].rest>>32 || names[p] != names[i] {
				routes[i].age++
			}
		}
	}
	permute(routes, order)
	return routes
}

// permute reorders routes in place so that the i-th is the one that was order[i]-th,
// following each cycle of the permutation once; it uses order up.
func permute(routes []pendingRoute, order []int32) {
	for i := range order {
		if order[i] < 0 {
			continue
		}
		first, j := routes[i], i
		for {
			k := int(order[j])
			order[j] = -1
			if k == i {
				routes[j] = first
				break
			}
			routes[j], j = routes[k], k
		}
	}
}

// attachKey is what the attach order compares of a pending route: its creation time
// (Unix seconds; nanoseconds<<32) and its rank in name order (nameOrder), packed.
type attachKey struct {
	sec  int64
	rest uint64
}

// compareAttachKeys orders attach keys by creation time, then name order.
func compareAttachKeys(a, b *attachKey) int {
	if a.sec != b.sec {
		return cmp.Compare(a.sec, b.sec)
	}
	return cmp.Compare(a.rest, b.rest)
}

// rankStatuses sets the statusRank of routes: their order by kind, then namespace/name,
// which is byName (nameOrder) split by kind.
func rankStatuses(routes []pendingRoute, byName []int32, keys []nameKey) {
	var next [len(routeKinds)]int32
	for i := range keys {
		next[keys[i].kind]++
	}
	at := int32(0)
	for k, n := range next {
		next[k] = at
		at += n
	}
	for _, i := range byName {
		k := keys[i].kind
		routes[i].statusRank = next[k]
		next[k]++
	}
}

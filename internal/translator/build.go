package translator

import (
	"cmp"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// buildIR assembles the IR from the programmable listeners and their routes.
func (t *translation) buildIR() *ir.Gateway {
	g := &ir.Gateway{Namespace: t.gw.Namespace, Name: t.gw.Name}
	byPort, tlsByPort := map[int32][]*listener{}, map[int32][]*listener{}
	var ports, tlsPorts []int32
	for _, l := range t.listeners {
		if !l.programOK {
			continue
		}
		switch l.spec.Protocol {
		case gwapiv1.TCPProtocolType:
			g.TCP = append(g.TCP, layer4Server(l))
			continue
		case gwapiv1.UDPProtocolType:
			g.UDP = append(g.UDP, layer4Server(l))
			continue
		case gwapiv1.TLSProtocolType:
			tlsPorts = addToPort(tlsByPort, tlsPorts, l)
			continue
		}
		ports = addToPort(byPort, ports, l)
	}
	slices.Sort(ports)
	slices.Sort(tlsPorts)
	byServerPort := func(a, b ir.Layer4Server) int { return cmp.Compare(a.Port, b.Port) }
	slices.SortFunc(g.TCP, byServerPort)
	slices.SortFunc(g.UDP, byServerPort)
	used := map[string]bool{}
	for _, p := range ports {
		ls := sortedListeners(byPort[p])
		srv := ir.HTTPServer{Port: p, TLS: ls[0].spec.Protocol == gwapiv1.HTTPSProtocolType}
		for _, l := range ls {
			for _, c := range l.certs {
				used[c] = true
			}
			srv.Listeners = append(srv.Listeners, ir.Listener{
				Name: l.irName(), Hostname: l.hostname, Certificates: l.certs, Hosts: buildHostGroups(l),
				ClientValidation: l.validation, RequestFilters: l.filters, Automatic: l.automatic,
			})
			if l.automatic != nil {
				g.ACME = t.acme
			}
		}
		g.HTTP = append(g.HTTP, srv)
	}
	for _, p := range tlsPorts {
		for _, l := range tlsByPort[p] {
			for _, c := range l.certs {
				used[c] = true
			}
		}
		// An HTTP listener on a TLS listener's port conflicts with it: the programmable
		// listeners in byPort here are HTTPS ones.
		srv, lost := tlsServer(p, tlsByPort[p], byPort[p])
		g.TLS = append(g.TLS, srv)
		t.shadowed = append(t.shadowed, lost...)
	}
	if t.clientCert != "" && t.policies.anyApplied() {
		used[t.clientCert] = true
	}
	for name := range used {
		d := t.certData[name]
		g.Certificates = append(g.Certificates, ir.Certificate{Name: name, CertPEM: d[0], KeyPEM: d[1]})
	}
	slices.SortFunc(g.Certificates, func(a, b ir.Certificate) int { return cmp.Compare(a.Name, b.Name) })
	return g
}

// addToPort adds l to the listeners of its port in byPort, and its port to ports when
// it is new there; it returns ports.
func addToPort(byPort map[int32][]*listener, ports []int32, l *listener) []int32 {
	if _, ok := byPort[l.spec.Port]; !ok {
		ports = append(ports, l.spec.Port)
	}
	byPort[l.spec.Port] = append(byPort[l.spec.Port], l)
	return ports
}

// entry is a route match waiting to be ordered in a host group, with its precedence
// key: small, so that sorting it is cheap, and holding all the ir.Route needs.
type entry struct {
	// key is the packed precedence (precedenceKeyOf), when keyed sorting is possible.
	key    [2]uint64
	m      *ir.Match
	action *ir.Action
	// grpc is set for GRPCRoute matches, which have their own precedence rules.
	grpc *grpcRank
	// src is the rule of the ir.Route Source; its Index is the rule's index in the route.
	src *ir.RuleSource
	// match indexes the match in its rule; age ranks the route (pendingRoute.age):
	// by creation time, then namespace/name.
	match, age int32
	// origin is the route's own hostname whose intersection with the listener's is the
	// host group's host ("" when the route has none). Matches of routes with a more
	// specific origin come first: an exact route hostname wins over a wildcard one that
	// narrows to the same host, whatever their paths.
	origin string
}

// originHost is the most specific of routeHosts whose intersection with listenerHost is
// host; "" when the route has no hostnames.
func originHost(listenerHost string, routeHosts []gwapiv1.Hostname, host string) string {
	if len(routeHosts) == 1 {
		return strings.ToLower(string(routeHosts[0]))
	}
	best, found := "", false
	for _, rh := range routeHosts {
		o := strings.ToLower(string(rh))
		if h, ok := intersectHost(listenerHost, o); ok && h == host && (!found || compareHostSpecificity(o, best) < 0) {
			best, found = o, true
		}
	}
	return best
}

// buildHostGroups builds one listener's routing table: host groups most specific
// first, each in Gateway API precedence order.
func buildHostGroups(l *listener) []ir.HostGroup {
	hosts, sizes, joins := groupHosts(&l.routes)
	// The groups are cut from one array, sized by groupHosts, in its order.
	total := 0
	for _, k := range sizes {
		total += k
	}
	groups, all := make([][]entry, len(sizes)), make([]entry, total)
	for g, k := range sizes {
		groups[g], all = all[:0:k], all[k:]
	}
	// l.routes are in attach order, which sorts by creation time, namespace and name;
	// their age ranks them so, equal for equal triples (a route attached twice), and
	// the precedence keys hold it in place of the triple.
	useKeys, lastAge := true, int32(0)
	for _, ar := range l.routes.all() {
		useKeys = useKeys && ar.age >= lastAge
		lastAge = ar.age
		join := joins[:len(ar.hostnames)]
		joins = joins[len(ar.hostnames):]
		seq := uint64(ar.age)
		for ri := range ar.rules.rules {
			ru := &ar.rules.rules[ri]
			src := &ar.rules.sources[ri]
			for mi := range ru.matches {
				m := &ru.matches[mi]
				e := entry{age: ar.age, match: int32(mi), m: m, src: src,
					action: actionFor(ru, ar.rules.backendRedirects(ri), m, l)}
				if ru.grpc != nil {
					e.grpc = &ru.grpc[mi]
					useKeys = false
				}
				var ok bool
				e.key, ok = precedenceKeyOf(m, seq, ri, mi)
				useKeys = useKeys && ok
				for hi, g := range join {
					e.origin = ar.origins[hi]
					groups[g] = append(groups[g], e)
				}
			}
		}
	}
	return hostGroups(hosts, groups, useKeys, total)
}

// groupHosts sorts the effective hostnames of routes into host groups, most specific
// first: hosts[g] is the hostname of group g, sizes[g] the number of its matches, and
// joins the group of each hostname of each route, in order.
func groupHosts(routes *blocks[attachedRoute]) (hosts []string, sizes []int, joins []int32) {
	// A route hostname and the number of matches of its route; rank and prefix are its
	// hostRank and length (an object's hostname is far shorter than 1<<30 bytes), and
	// its stringPrefix, for compareHostSpecificity.
	type join struct {
		host          string
		prefix        uint64
		rank, matches uint32
	}
	all := make([]join, 0, routes.len())
	for _, ar := range routes.all() {
		k := 0
		for ri := range ar.rules.rules {
			k += len(ar.rules.rules[ri].matches)
		}
		for _, h := range ar.hostnames {
			all = append(all, join{host: h, prefix: stringPrefix(h), rank: uint32(hostRank(h))<<30 | uint32(1<<30-1-len(h)),
				matches: uint32(k)})
		}
	}
	// The positions are sorted rather than the joins: they hold no pointers, and move
	// with no write barrier. Equal hosts may come in any order: the joins of a group are
	// numbered by position.
	order := make([]int32, len(all))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &all[i], &all[j]
		if a.rank != b.rank {
			return cmp.Compare(a.rank, b.rank)
		}
		return compareStrings(a.host, b.host, a.prefix, b.prefix)
	})
	newHost := func(i int) bool { return i == 0 || all[order[i]].host != all[order[i-1]].host }
	groups := 0
	for i := range order {
		if newHost(i) {
			groups++
		}
	}
	hosts, sizes = make([]string, 0, groups), make([]int, 0, groups)
	joins = make([]int32, len(all))
	for i, at := range order {
		if newHost(i) {
			hosts = append(hosts, all[at].host)
			sizes = append(sizes, 0)
		}
		sizes[len(sizes)-1] += int(all[at].matches)
		joins[at] = int32(len(hosts) - 1)
	}
	return hosts, sizes, joins
}

// hostGroups orders each group of entries by precedence (precedenceOrder) and names it
// by its host. The routes of all groups, total in all, are cut from one array.
func hostGroups(hosts []string, groups [][]entry, useKeys bool, total int) []ir.HostGroup {
	all := make([]ir.Route, total)
	out := make([]ir.HostGroup, 0, len(hosts))
	for g, group := range groups {
		routes := all[:len(group):len(group)]
		all = all[len(group):]
		for i, j := range precedenceOrder(group, useKeys) {
			e := &group[j]
			routes[i] = ir.Route{Source: ir.Source{Rule: e.src, Match: e.match}, Match: e.m, Action: e.action}
		}
		out = append(out, ir.HostGroup{Hostname: hosts[g], Routes: routes})
	}
	return out
}

// actionFor completes a rule's action for one match on one listener: redirect
// defaults (of the rule and of its backends, given by backendRedirects) depend on the
// listener, prefix replacement on the match. Without those, every match of the rule
// shares the rule's action.
func actionFor(ru *rule, backendRedirects []*gwapiv1.HTTPRequestRedirectFilter, m *ir.Match, l *listener) *ir.Action {
	perBackend := ru.redirect == nil && (backendRedirects != nil || hasBackendPrefixRewrite(ru.action.Backends))
	if ru.redirect == nil && ru.rewrite == nil && !perBackend {
		return &ru.action
	}
	a := ru.action
	prefix := ""
	if m.PathType == ir.PathPrefix {
		prefix = m.Path
	}
	if ru.redirect != nil {
		a.Redirect = listenerRedirect(ru.redirect, l)
		a.Backends, a.DirectStatus = nil, 0
		if a.Redirect.Path != nil && a.Redirect.Path.Type == ir.ReplacePrefixMatch {
			a.Redirect.Path.Prefix = prefix
		}
	}
	if perBackend {
		a.Backends = backendsFor(a.Backends, backendRedirects, prefix, l)
	}
	if ru.rewrite != nil {
		rw := *a.Rewrite
		rw.Path = pathModifier(ru.rewrite.Path)
		if rw.Path != nil && rw.Path.Type == ir.ReplacePrefixMatch {
			rw.Path.Prefix = prefix
		}
		a.Rewrite = &rw
	}
	return &a
}

// comparePrecedence orders matches per the HTTPRoute spec: Exact path, then (our
// choice for the implementation-specific case) regular expressions by length, then
// prefixes by length; then a method; more headers; more query params; the oldest
// route, then namespace/name (the route's age); rule and match order.
func comparePrecedence(a, b *entry) int {
	if a.grpc != nil && b.grpc != nil {
		return compareGRPCPrecedence(a, b)
	}
	// Early returns rather than cmp.Or, which would evaluate every comparison (string
	// and time ones included) on each of the n log n calls of a large host group.
	ma, mb := a.m, b.m
	if c := cmp.Compare(pathRank(ma.PathType), pathRank(mb.PathType)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(mb.Path), len(ma.Path)); c != 0 {
		return c
	}
	if c := cmp.Compare(boolRank(ma.Method != ""), boolRank(mb.Method != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(len(mb.Headers), len(ma.Headers)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(mb.Query), len(ma.Query)); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.age, b.age), cmp.Compare(a.src.Index, b.src.Index), cmp.Compare(a.match, b.match))
}

func pathRank(t ir.PathMatchType) int {
	switch t {
	case ir.PathExact:
		return 0
	case ir.PathRegex:
		return 1
	}
	return 2
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// precedenceKeyOf packs what comparePrecedence reads of an HTTPRoute match into two
// words, so that a host group of thousands of matches sorts without visiting each match
// and route on every comparison: the path match type rank, the path length (longer
// first), whether there is a method (first), the numbers of header and query matches
// (more first); then the route's seq, the rule and the match index. ok is false when a
// value does not fit its bits (never for objects that passed the Gateway API validation).
func precedenceKeyOf(m *ir.Match, seq uint64, ri, mi int) (key [2]uint64, ok bool) {
	pathLen, headers, query := len(m.Path), len(m.Headers), len(m.Query)
	if pathLen >= 1<<28 || headers >= 1<<16 || query >= 1<<16 || seq >= 1<<32 || ri >= 1<<16 || mi >= 1<<16 {
		return key, false
	}
	hi := uint64(pathRank(m.PathType))<<61 | uint64(1<<28-1-pathLen)<<33 | uint64(boolRank(m.Method != ""))<<32 |
		uint64(1<<16-1-headers)<<16 | uint64(1<<16-1-query)
	return [2]uint64{hi, seq<<32 | uint64(ri)<<16 | uint64(mi)}, true
}

// precedenceOrder returns the order of a host group by comparePrecedence, stable: the
// i-th route is group[order[i]]. With useKeys the packed keys decide.
func precedenceOrder(group []entry, useKeys bool) []int32 {
	order := make([]int32, len(group))
	if mixedOrigins(group) {
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int {
			if c := compareHostSpecificity(group[a].origin, group[b].origin); c != 0 && group[a].origin != group[b].origin {
				return c
			}
			return comparePrecedence(&group[a], &group[b])
		})
		return order
	}
	if useKeys && slices.IsSortedFunc(group, func(a, b entry) int { return cmp.Compare(a.key[1], b.key[1]) }) {
		countingSortByKey(group, order)
		return order
	}
	for i := range order {
		order[i] = int32(i)
	}
	if !useKeys {
		slices.SortStableFunc(order, func(a, b int32) int { return comparePrecedence(&group[a], &group[b]) })
		return order
	}
	slices.SortFunc(order, func(a, b int32) int {
		ka, kb := &group[a].key, &group[b].key
		if ka[0] != kb[0] {
			return cmp.Compare(ka[0], kb[0])
		}
		if ka[1] != kb[1] {
			return cmp.Compare(ka[1], kb[1])
		}
		return cmp.Compare(a, b)
	})
	return order
}

// mixedOrigins reports whether the group's matches come from route hostnames of
// different specificity, which then order the group before everything else.
func mixedOrigins(group []entry) bool {
	for i := 1; i < len(group); i++ {
		if group[i].origin != group[0].origin {
			return true
		}
	}
	return false
}

// countingSortByKey fills order with a stable sort of group by key[0]. The group is
// sorted by key[1] already (the entries of each route are added in rule and match
// order, routes in seq order), so that is its full order. A host group holds few
// distinct key[0] values (path types, lengths and match counts): a counting sort over
// them moves each entry once.
func countingSortByKey(group []entry, order []int32) {
	his := make([]uint64, len(group))
	for i := range group {
		his[i] = group[i].key[0]
	}
	slices.Sort(his)
	his = slices.Compact(his)
	bucket := func(e *entry) int {
		i, _ := slices.BinarySearch(his, e.key[0])
		return i
	}
	next := make([]int32, len(his))
	for i := range group {
		if b := bucket(&group[i]); b+1 < len(next) {
			next[b+1]++
		}
	}
	for b := 1; b < len(next); b++ {
		next[b] += next[b-1]
	}
	for i := range group {
		b := bucket(&group[i])
		order[next[b]] = int32(i)
		next[b]++
	}
}

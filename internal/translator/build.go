package translator

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// buildIR assembles the IR from the programmable listeners and their routes.
func (t *translation) buildIR() *ir.Gateway {
	g := &ir.Gateway{Namespace: t.gw.Namespace, Name: t.gw.Name}
	byPort := map[int32][]*listener{}
	var ports []int32
	for _, l := range t.listeners {
		if !l.programOK {
			continue
		}
		if _, ok := byPort[l.spec.Port]; !ok {
			ports = append(ports, l.spec.Port)
		}
		byPort[l.spec.Port] = append(byPort[l.spec.Port], l)
	}
	slices.Sort(ports)
	used := map[string]bool{}
	for _, p := range ports {
		ls := sortedListeners(byPort[p])
		srv := ir.HTTPServer{Port: p, TLS: ls[0].spec.Protocol == gwapiv1.HTTPSProtocolType}
		for _, l := range ls {
			for _, c := range l.certs {
				used[c] = true
			}
			srv.Listeners = append(srv.Listeners, ir.Listener{
				Name: string(l.spec.Name), Hostname: l.hostname, Certificates: l.certs, Hosts: buildHostGroups(l),
				ClientValidation: l.validation,
			})
		}
		g.HTTP = append(g.HTTP, srv)
	}
	for name := range used {
		d := t.certData[name]
		g.Certificates = append(g.Certificates, ir.Certificate{Name: name, CertPEM: d[0], KeyPEM: d[1]})
	}
	slices.SortFunc(g.Certificates, func(a, b ir.Certificate) int { return cmp.Compare(a.Name, b.Name) })
	return g
}

// entry is a route match waiting to be ordered: small, so that sorting and copying
// it is cheap; the ir.Route is assembled once its place is known.
type entry struct {
	route  *metav1.ObjectMeta
	rule   int
	match  int
	m      *ir.Match
	action *ir.Action
	// src locates the ir.Route Source in the listener's shared sources string.
	src [2]int
	// grpc is set for GRPCRoute matches, which have their own precedence rules.
	grpc *grpcRank
}

// member is an entry in one host group, with the route hostname that put it there.
type member struct {
	entry int32
	// origin is the route's own hostname whose intersection with the listener's is the
	// group's host ("" when the route has none). Matches of routes with a more specific
	// origin come first: an exact route hostname wins over a wildcard one that narrows
	// to the same host, whatever their paths.
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
	n := 0
	for _, ar := range l.routes {
		for ri := range ar.rules.rules {
			n += len(ar.rules.rules[ri].matches)
		}
	}
	entries := make([]entry, 0, n)
	groups := map[string][]member{}
	// Every Source, one after another: one string for the listener, not one per match.
	var src strings.Builder
	src.Grow(32 * n)
	for _, ar := range l.routes {
		for ri := range ar.rules.rules {
			ru := &ar.rules.rules[ri]
			for mi := range ru.matches {
				m := &ru.matches[mi]
				start := src.Len()
				for _, part := range [...]string{ar.route.Namespace, "/", ar.route.Name, "/rule/", strconv.Itoa(ri), "/match/", strconv.Itoa(mi)} {
					src.WriteString(part)
				}
				entries = append(entries, entry{route: ar.route, rule: ri, match: mi, m: m,
					src: [2]int{start, src.Len()}, action: actionFor(ru, m, l)})
				if ru.grpc != nil {
					entries[len(entries)-1].grpc = &ru.grpc[mi]
				}
				for _, h := range ar.hostnames {
					groups[h] = append(groups[h], member{entry: int32(len(entries) - 1), origin: originHost(l.hostname, ar.routeHosts, h)})
				}
			}
		}
	}
	hosts := make([]string, 0, len(groups))
	for h := range groups {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, compareHostSpecificity)
	sources := src.String()
	out := make([]ir.HostGroup, 0, len(hosts))
	for _, h := range hosts {
		idx := groups[h]
		slices.SortStableFunc(idx, func(a, b member) int {
			if a.origin != b.origin {
				if c := compareHostSpecificity(a.origin, b.origin); c != 0 {
					return c
				}
			}
			return comparePrecedence(&entries[a.entry], &entries[b.entry])
		})
		routes := make([]ir.Route, len(idx))
		for i, e := range idx {
			en := &entries[e.entry]
			routes[i] = ir.Route{Source: sources[en.src[0]:en.src[1]], Match: *en.m, Action: en.action}
		}
		out = append(out, ir.HostGroup{Hostname: h, Routes: routes})
	}
	return out
}

// actionFor completes a rule's action for one match on one listener: redirect
// defaults depend on the listener, prefix replacement on the match. Without those,
// every match of the rule shares the rule's action.
func actionFor(ru *rule, m *ir.Match, l *listener) *ir.Action {
	if ru.redirect == nil && ru.rewrite == nil {
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
// route; namespace/name; rule and match order.
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
	if c := a.route.CreationTimestamp.Compare(b.route.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.route.Namespace, b.route.Namespace),
		cmp.Compare(a.route.Name, b.route.Name),
		cmp.Compare(a.rule, b.rule),
		cmp.Compare(a.match, b.match),
	)
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

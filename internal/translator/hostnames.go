package translator

import (
	"cmp"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// hostMatches reports whether host (exact) is matched by pattern (exact or "*.suffix").
// Gateway API wildcards match any number of labels, but at least one.
func hostMatches(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return pattern == host
}

// intersectHost returns the effective hostname of a listener hostname and a route
// hostname ("" means any), and whether they intersect at all.
func intersectHost(listenerHost, routeHost string) (string, bool) {
	switch {
	case listenerHost == "":
		return routeHost, true
	case routeHost == "":
		return listenerHost, true
	case hostMatches(listenerHost, routeHost):
		return routeHost, true
	case hostMatches(routeHost, listenerHost):
		return listenerHost, true
	}
	return "", false
}

// effectiveHostnames intersects a listener hostname with a route's hostnames. The
// result is sorted by specificity and has no duplicates; empty means no intersection.
func effectiveHostnames(listenerHost string, routeHosts []string) []string {
	if len(routeHosts) == 0 {
		return []string{listenerHost}
	}
	var out []string
	seen := map[string]bool{}
	for _, rh := range routeHosts {
		h, ok := intersectHost(listenerHost, strings.ToLower(rh))
		if ok && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// routeHosts are the effective hostnames of a route on a listener (hosts), and for
// each the route's own hostname it comes from (origins, originHost).
type routeHosts struct{ hosts, origins []string }

// effectiveHosts is effectiveHostnames for a route's hostnames on listener l, with
// their origins. Routes with no hostname share one result; a route with one hostname
// (most routes) gets its result cut from the listener's block of strings, hosts and
// origins sharing their one string when equal. Callers must not modify the result.
func (l *listener) effectiveHosts(hostnames []gwapiv1.Hostname) routeHosts {
	switch len(hostnames) {
	case 0:
		if l.anyHosts.hosts == nil {
			l.anyHosts = l.routeHosts(nil)
		}
		return l.anyHosts
	case 1:
		origin := strings.ToLower(string(hostnames[0]))
		h, ok := intersectHost(l.hostname, origin)
		if !ok {
			return routeHosts{}
		}
		if h == origin {
			s := append(l.hostBlock.take(1), h)
			return routeHosts{hosts: s, origins: s}
		}
		s := append(l.hostBlock.take(2), h, origin)
		return routeHosts{hosts: s[:1:1], origins: s[1:]}
	}
	return l.routeHosts(hostnames)
}

func (l *listener) routeHosts(hostnames []gwapiv1.Hostname) routeHosts {
	hosts := slices.Clip(effectiveHostnames(l.hostname, hostStrings(hostnames)))
	origins := make([]string, len(hosts))
	for i, h := range hosts {
		origins[i] = originHost(l.hostname, hostnames, h)
	}
	return routeHosts{hosts: hosts, origins: origins}
}

// compareHostSpecificity orders host patterns most specific first: exact names, then
// wildcards by length (longest first), then the catch-all "".
func compareHostSpecificity(a, b string) int {
	// Early returns rather than cmp.Or, which would compare the strings on each call of
	// the sort of thousands of hosts.
	if c := cmp.Compare(hostRank(a), hostRank(b)); c != 0 {
		return c
	}
	if len(a) != len(b) {
		return cmp.Compare(len(b), len(a))
	}
	return strings.Compare(a, b)
}

// hostRank ranks host patterns for compareHostSpecificity: exact names, wildcards, the
// catch-all "".
func hostRank(h string) int {
	switch {
	case h == "":
		return 2
	case h[0] == '*':
		return 1
	}
	return 0
}

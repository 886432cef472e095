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

// effectiveHosts is effectiveHostnames for a route's hostnames on listener l. Most
// routes have at most one, and many routes share it: their results are computed once
// per listener and shared, so callers must not modify them.
func (l *listener) effectiveHosts(routeHosts []gwapiv1.Hostname) []string {
	switch len(routeHosts) {
	case 0:
		if l.anyHosts == nil {
			l.anyHosts = slices.Clip(effectiveHostnames(l.hostname, nil))
		}
		return l.anyHosts
	case 1:
		if hs, ok := l.hostCache[string(routeHosts[0])]; ok {
			return hs
		}
		hs := slices.Clip(effectiveHostnames(l.hostname, hostStrings(routeHosts)))
		if l.hostCache == nil {
			l.hostCache = map[string][]string{}
		}
		l.hostCache[string(routeHosts[0])] = hs
		return hs
	}
	return effectiveHostnames(l.hostname, hostStrings(routeHosts))
}

// compareHostSpecificity orders host patterns most specific first: exact names, then
// wildcards by length (longest first), then the catch-all "".
func compareHostSpecificity(a, b string) int {
	rank := func(h string) int {
		switch {
		case h == "":
			return 2
		case strings.HasPrefix(h, "*"):
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
}

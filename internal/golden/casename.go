package golden

import (
	"fmt"
	"slices"
	"strings"
)

// CaseName checks the name of a translator case against kinds, the kinds of its input's
// objects: it starts with gateway- (the Gateway's own spec; any routes only show the
// effect), with the lower-case kind of the one route kind the input holds (httproute-,
// grpcroute-, …), with routes- when the input shows a behaviour with several route
// kinds, with backendtlspolicy- when the input holds a BackendTLSPolicy (policies
// apply to the backends of every route kind), or with listenerset- when the input holds
// a ListenerSet (sets bring listeners for every route kind). A route kind is a kind
// ending in Route.
func CaseName(name string, kinds []string) error {
	var routes []string
	for _, k := range kinds {
		if strings.HasSuffix(k, "Route") && !slices.Contains(routes, k) {
			routes = append(routes, k)
		}
	}
	slices.Sort(routes)
	prefix, _, _ := strings.Cut(name, "-")
	switch {
	case prefix == "gateway":
		return nil
	case prefix == "backendtlspolicy" && slices.Contains(kinds, "BackendTLSPolicy"):
		return nil
	case prefix == "listenerset" && slices.Contains(kinds, "ListenerSet"):
		return nil
	case prefix == "routes" && len(routes) > 1:
		return nil
	case len(routes) == 1 && prefix == strings.ToLower(routes[0]):
		return nil
	}
	return fmt.Errorf("case %s: the name starts with %s-, but a case starts with gateway- (about the Gateway's own spec), "+
		"routes- (input with several route kinds), backendtlspolicy- (input with a BackendTLSPolicy), listenerset- (input with a ListenerSet) or the lower-case kind of the one route kind its input holds; it holds %v",
		name, prefix, routes)
}

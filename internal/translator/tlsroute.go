package translator

import (
	"cmp"
	"slices"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

const kindTLSRoute = "TLSRoute"

// tlsRouteKind is the row of TLSRoutes in the table of route kinds: they attach to TLS
// listeners only (mode Passthrough or Terminate), choose their connections by the server
// name of the TLS ClientHello (their hostnames intersected with the listener's, as an
// HTTPRoute's are), and proxy them to the weighted backends of their one rule.
var tlsRouteKind = routeKind{
	name:      kindTLSRoute,
	protocols: []gwapiv1.ProtocolType{gwapiv1.TLSProtocolType},
	count:     func(in *Input) int { return len(in.TLSRoutes) },
	route: func(in *Input, i int) routeRef {
		r := &in.TLSRoutes[i]
		return routeRef{meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames, parentRefs: r.Spec.ParentRefs}
	},
	check: func(t *translation, i int) *checkedRules { return t.checkTLSRules(&t.in.TLSRoutes[i]) },
}

// tlsBackends are the backendRules of TLSRoutes: the bytes of the connection (still
// encrypted in mode Passthrough, decrypted in mode Terminate) are proxied as they come,
// so any appProtocol of the Service port will do, and a share without a usable backend
// has its connections closed.
var tlsBackends = backendRules{kind: kindTLSRoute, protocol: ir.ProtocolTCP, anyAppProtocol: true, unavailable: tcpUnavailable}

// checkTLSRules converts and validates the rules of a TLSRoute. The backends of a
// route that may attach to a listener in mode Terminate speak TLS as the
// BackendTLSPolicies of their Service ports say (tlsTerminateBackends).
func (t *translation) checkTLSRules(r *gwapiv1.TLSRoute) *checkedRules {
	br := &tlsBackends
	if t.mayTerminate(r) {
		br = &tlsTerminateBackends
	}
	return t.checkLayer4Rules(&r.ObjectMeta, kindTLSRoute, br, len(r.Spec.Rules),
		func(i int) (*gwapiv1.SectionName, []gwapiv1.BackendRef) {
			return r.Spec.Rules[i].Name, r.Spec.Rules[i].BackendRefs
		})
}

// tlsServer is the server of the programmable TLS listeners of one port, ls, next to
// the programmable HTTPS listeners of the port, https (the server shares the port with
// them when there are any).
//
// A connection goes to the listener whose hostname matches its server name most
// specifically, as an HTTP request does, and there to the route whose hostname matches
// it most specifically: the routes are ordered by listener (sortedListeners), then by
// their effective hostname (compareHostSpecificity), then by the route's own hostname
// behind it (an exact route hostname before a wildcard that narrows to the same name),
// then by age (the oldest route, then the first by namespace/name). A hostname that an
// earlier entry already holds is left out of the later ones: the route keeps its
// Accepted status and serves its other hostnames; the hostnames it lost so are returned
// (shadowedHostsMessage names them in its status). Consecutive hostnames of one route
// rule share one ir.TLSRoute, so a route is one entry unless another route's hostname
// must be tried between two of its own. Each entry leaves the server names of more
// specific listeners on the port, https ones included, to them (exceptHosts).
func tlsServer(port int32, ls, https []*listener) (ir.TLSServer, []shadowedHost) {
	srv := ir.TLSServer{Port: port, SharedWithHTTPS: len(https) > 0}
	var entries []tlsEntry
	for li, l := range sortedListeners(ls) {
		for ai, ar := range l.routes.all() {
			for ri := range ar.rules.rules {
				for hi, h := range ar.hostnames {
					entries = append(entries, tlsEntry{l: l, listener: li, ar: ar, rule: ri, route: ai,
						host: h, origin: ar.origins[hi]})
				}
			}
		}
	}
	slices.SortStableFunc(entries, compareTLSEntries)
	held := map[string]*tlsEntry{}
	var last *tlsEntry
	var lost []shadowedHost
	for i := range entries {
		e := &entries[i]
		if w := held[e.host]; w != nil {
			if w.ar.rules != e.ar.rules {
				lost = append(lost, shadowedHost{listener: e.l, host: e.host, route: e.ar.rules.sources[0], by: w.ar.rules.sources[0]})
			}
			continue
		}
		held[e.host] = e
		if n := len(srv.Routes); n > 0 && e.host != "" && last.sameRule(e) && srv.Routes[n-1].Hostnames != nil {
			srv.Routes[n-1].Hostnames = append(srv.Routes[n-1].Hostnames, e.host)
		} else {
			srv.Routes = append(srv.Routes, e.irRoute())
		}
		last = e
	}
	all := append(slices.Clone(ls), https...)
	for i := range srv.Routes {
		srv.Routes[i].Except = exceptHosts(&srv.Routes[i], all)
	}
	return srv, lost
}

// exceptHosts are the hostnames of the listeners in all more specific than the
// listener of r that intersect r's hostnames (any, for a catch-all r), most specific
// first: a connection they match is theirs, not r's.
func exceptHosts(r *ir.TLSRoute, all []*listener) []string {
	var own string
	for _, l := range all {
		if l.irName() == r.Listener {
			own = l.hostname
		}
	}
	var out []string
	for _, l := range all {
		x := l.hostname
		if x == own || compareHostSpecificity(x, own) >= 0 || slices.Contains(out, x) {
			continue
		}
		if len(r.Hostnames) == 0 || slices.ContainsFunc(r.Hostnames, func(h string) bool { _, ok := intersectHost(x, h); return ok }) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, compareHostSpecificity)
	return out
}

// tlsEntry is one effective hostname of one rule of a route attached to a TLS listener.
type tlsEntry struct {
	l  *listener
	ar *attachedRoute
	// listener ranks l among the port's listeners, route the route among l's routes
	// (attach order: oldest first, then by namespace/name), rule the rule in the route.
	listener, route, rule int
	// host is the effective hostname, origin the route's own hostname behind it.
	host, origin string
}

// compareTLSEntries orders entries as tlsServer says.
func compareTLSEntries(a, b tlsEntry) int {
	return cmp.Or(cmp.Compare(a.listener, b.listener), compareHostSpecificity(a.host, b.host),
		compareHostSpecificity(a.origin, b.origin), cmp.Compare(a.route, b.route), cmp.Compare(a.rule, b.rule))
}

// sameRule reports whether a and b are hostnames of one rule of one route on one listener.
func (a *tlsEntry) sameRule(b *tlsEntry) bool {
	return a.l == b.l && a.route == b.route && a.rule == b.rule
}

// irRoute is the ir.TLSRoute of e's rule with e's hostname (none for the catch-all).
func (e *tlsEntry) irRoute() ir.TLSRoute {
	r := ir.TLSRoute{Listener: e.l.irName(), Route: e.ar.rules.sources[e.rule].String(),
		Backends: e.ar.rules.rules[e.rule].action.Backends}
	if e.host != "" {
		r.Hostnames = []string{e.host}
	}
	if e.l.terminatesTLSRoutes() {
		r.Certificates = e.l.certs
	} else {
		r.Backends = withoutTLS(r.Backends)
	}
	return r
}

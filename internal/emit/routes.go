package emit

import (
	"iter"
	"regexp"
	"strconv"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// server renders one port: listeners in order (the first whose hostname matches serves
// the request, TLS connection policies by SNI), then 404 for anything unmatched.
func (e *emitter) server(s *ir.HTTPServer) *caddyjson.Server {
	out := &caddyjson.Server{Listen: e.listen(s.Port), AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true}}
	out.NamedRoutes = e.shareLists(s)
	for i := range s.Listeners {
		l := &s.Listeners[i]
		out.Routes = append(out.Routes, caddyjson.Route{
			Match:    hostMatch(l.Hostname),
			Handle:   []caddyjson.Handler{misdirectGuard(s, i, e.listenerSubroute(l))},
			Terminal: true,
		})
		if s.TLS {
			out.TLSConnectionPolicies = append(out.TLSConnectionPolicies, connectionPolicy(l))
		}
	}
	out.Routes = append(out.Routes, caddyjson.Route{Handle: []caddyjson.Handler{status(404)}})
	out.StrictSNIHost = strictSNIHost(s)
	applyServerOptions(out, &e.opts.Servers)
	return out
}

// listenerSubroute tries the host groups most specific first; a group without a
// matching route falls through to the next; nothing matched gives 404.
func (e *emitter) listenerSubroute(l *ir.Listener) caddyjson.Subroute {
	sub := caddyjson.Subroute{Handler: "subroute"}
	for i := range l.Hosts {
		h := &l.Hosts[i]
		var match []caddyjson.MatcherSet
		if h.Hostname != l.Hostname {
			match = hostMatch(h.Hostname)
		}
		if r, ok := e.onlyRoute(h, match); ok {
			sub.Routes = append(sub.Routes, r)
			continue
		}
		sub.Routes = append(sub.Routes, caddyjson.Route{
			Match:  match,
			Handle: []caddyjson.Handler{caddyjson.RouteStream{Handler: "subroute", Routes: e.hostRoutes(h, e.hostLists[h])}},
		})
	}
	sub.Routes = append(sub.Routes, caddyjson.Route{Handle: []caddyjson.Handler{status(404)}})
	return sub
}

// onlyRoute is the route of a host group that has only one, with the group's host
// match (hostMatch, or none) joined to its own matchers: the same requests match, and
// Caddy provisions one route instead of a route, a subroute and the route in it. A
// host per route is the common shape of a large Gateway. ok is false for other groups,
// and when the route itself matches a Host header.
func (e *emitter) onlyRoute(h *ir.HostGroup, host []caddyjson.MatcherSet) (caddyjson.Route, bool) {
	if len(h.Routes) != 1 {
		return caddyjson.Route{}, false
	}
	r := &h.Routes[0]
	for _, hdr := range r.Match.Headers {
		if strings.EqualFold(hdr.Name, "Host") {
			return caddyjson.Route{}, false
		}
	}
	var set caddyjson.MatcherSet
	re := new(caddyjson.Regexp)
	matcherSet(&set, re, &e.patterns, r.Match, r.Match.Path == "/" && needsPrefixGroups(r.Action))
	if len(host) > 0 {
		set.HeaderRegexp = append(set.HeaderRegexp, host[0].HeaderRegexp...)
	}
	return caddyjson.Route{Match: []caddyjson.MatcherSet{set}, Handle: e.handle(e.hostLists[h][0]), Terminal: true}, true
}

// shareLists renders the handler list of every route of s (into e.hostLists; they also
// decide e.usesInvalidBackend) and returns the server's named routes: one per list
// that several routes use. Those routes invoke it by name, so Caddy provisions the
// list's handlers (a reverse proxy and its connection pool, say) once per server
// instead of once per route, and the config carries the list once.
func (e *emitter) shareLists(s *ir.HTTPServer) map[string]*caddyjson.Route {
	uses := map[int32]int32{}
	for i := range s.Listeners {
		for j := range s.Listeners[i].Hosts {
			h := &s.Listeners[i].Hosts[j]
			lists := make([]int32, len(h.Routes))
			for k := range h.Routes {
				lists[k] = e.handlers(h.Routes[k].Action, h.Routes[k].Source.Rule)
				uses[lists[k]]++
			}
			e.hostLists[h] = lists
		}
	}
	var named map[string]*caddyjson.Route
	for i, n := range uses {
		e.routes += int(n)
		if n < 2 {
			e.ownLists++
			continue
		}
		if named == nil {
			named = map[string]*caddyjson.Route{}
		}
		name := listName(i)
		named[name] = &caddyjson.Route{Handle: e.lists[i]}
		e.invokes[i] = []caddyjson.Handler{caddyjson.Invoke{Handler: "invoke", Name: name}}
	}
	return named
}

// listName names the shared handler list i among a server's named routes.
func listName(i int32) string { return "handlers-" + strconv.Itoa(int(i)) }

// handle is how a route reaches handler list i: by name when the list is shared.
func (e *emitter) handle(i int32) []caddyjson.Handler {
	if hs, ok := e.invokes[i]; ok {
		return hs
	}
	return e.lists[i]
}

// hostRoutes yields the Caddy routes of a host group, each built into the same
// scratch values (a large table allocates nothing per route). Route j is handled by
// list lists[j] (shareLists).
func (e *emitter) hostRoutes(h *ir.HostGroup, lists []int32) iter.Seq[*caddyjson.Route] {
	return func(yield func(*caddyjson.Route) bool) {
		var (
			sets   [1]caddyjson.MatcherSet
			re     caddyjson.Regexp
			method [1]string
		)
		route := caddyjson.Route{Match: sets[:], Terminal: true}
		set := &sets[0]
		set.Method = method[:0]
		for j := range h.Routes {
			r := &h.Routes[j]
			// Only what matcherSet sets is cleared: the scratch values live on the heap,
			// where copying whole structs costs a write barrier per pointer while the
			// garbage collector runs.
			set.PathRegexp, set.Not = nil, nil
			set.Method, set.HeaderRegexp, set.VarsRegexp = set.Method[:0], set.HeaderRegexp[:0], set.VarsRegexp[:0]
			// The prefix groups only change a "/" prefix match: skip reading the action otherwise.
			matcherSet(set, &re, &e.patterns, r.Match, r.Match.Path == "/" && needsPrefixGroups(r.Action))
			route.Handle = e.handle(lists[j])
			if !yield(&route) {
				return
			}
		}
	}
}

// hostMatch matches a Gateway API host pattern against the request host (any port,
// case-insensitive); "*.x" is a suffix match of one or more labels.
func hostMatch(host string) []caddyjson.MatcherSet {
	if host == "" {
		return nil
	}
	return []caddyjson.MatcherSet{{HeaderRegexp: caddyjson.RegexpMap{{Key: "Host", Value: caddyjson.Regexp{Pattern: hostPattern(host) + `(?::[0-9]+)?$`}}}}}
}

// hostPattern is the anchored-at-start regexp of a host pattern, without end anchor.
func hostPattern(host string) string {
	if suffix, ok := strings.CutPrefix(host, "*"); ok {
		return `(?i)^[^:/]+` + regexp.QuoteMeta(suffix)
	}
	return `(?i)^` + regexp.QuoteMeta(host)
}

func connectionPolicy(l *ir.Listener) caddyjson.TLSConnectionPolicy {
	p := caddyjson.TLSConnectionPolicy{CertificateSelection: &caddyjson.CertificateSelection{AnyTag: l.Certificates}}
	switch {
	case l.Hostname == "":
	case strings.HasPrefix(l.Hostname, "*"):
		p.Match = &caddyjson.TLSMatch{SNIRegexp: &caddyjson.Regexp{Pattern: hostPattern(l.Hostname) + "$"}}
	default:
		p.Match = &caddyjson.TLSMatch{SNI: []string{l.Hostname}}
	}
	p.ClientAuthentication = clientAuthentication(l.ClientValidation)
	return p
}

// prefixRegexpName names the path regexp whose groups carry the rest of a prefix match:
// {http.regexp.p.1} is "/rest" or "", {http.regexp.p.2} is "rest" or "".
const prefixRegexpName = "p"

func needsPrefixGroups(a *ir.Action) bool {
	if a.Redirect != nil && isPrefix(a.Redirect.Path) || a.Rewrite != nil && isPrefix(a.Rewrite.Path) {
		return true
	}
	for i := range a.Backends {
		if f := a.Backends[i].Filters; f != nil && (f.Rewrite != nil && isPrefix(f.Rewrite.Path) || f.Redirect != nil && isPrefix(f.Redirect.Path)) {
			return true
		}
	}
	return false
}

func isPrefix(p *ir.PathModifier) bool { return p != nil && p.Type == ir.ReplacePrefixMatch }

// matcherSet renders one IR match (one matcher set, fields AND-ed) into set; a path
// regexp, when needed, is written to re, and patterns are cut from pat. The empty
// lists already in set are reused.
func matcherSet(set *caddyjson.MatcherSet, re *caddyjson.Regexp, pat *patterns, m *ir.Match, prefixGroups bool) {
	// Fields are set one by one: re and set may be scratch values on the heap (see
	// hostRoutes).
	switch {
	case m.PathType == ir.PathExact:
		re.Name, re.Pattern = "", pat.exact(m.Path)
		set.PathRegexp = re
	case m.PathType == ir.PathRegex:
		re.Name, re.Pattern = "", pat.anchored(m.Path)
		set.PathRegexp = re
	case m.Path != "/" || prefixGroups:
		re.Name, re.Pattern = prefixRegexpName, pat.prefix(m.Path)
		set.PathRegexp = re
	}
	if m.Method != "" {
		set.Method = append(set.Method[:0], m.Method)
	}
	for _, h := range m.Headers {
		set.HeaderRegexp.Set(h.Name, caddyjson.Regexp{Pattern: valuePattern(pat, h)})
	}
	switch len(m.Query) {
	case 0:
	case 1:
		q := m.Query[0]
		set.VarsRegexp.Set(pat.queryVar(q.Name), caddyjson.Regexp{Pattern: valuePattern(pat, q)})
	default:
		set.Not = allQuery(pat, m.Query)
	}
}

// allQuery is the "not" matcher of a set that requires every one of qs. Caddy's
// vars_regexp matches when any one of its entries does, so each parameter gets its own,
// AND-ed by double negation: not(not q1 or not q2 ...).
func allQuery(pat *patterns, qs []ir.StringMatch) []caddyjson.MatcherSet {
	sets := make([]caddyjson.MatcherSet, len(qs))
	for i, q := range qs {
		sets[i].Not = []caddyjson.MatcherSet{{VarsRegexp: caddyjson.RegexpMap{
			{Key: pat.queryVar(q.Name), Value: caddyjson.Regexp{Pattern: valuePattern(pat, q)}},
		}}}
	}
	return sets
}

func valuePattern(pat *patterns, s ir.StringMatch) string {
	if s.Type == ir.StringRegex {
		return pat.anchored(s.Value)
	}
	return pat.exact(s.Value)
}

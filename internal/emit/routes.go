package emit

import (
	"iter"
	"regexp"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// server renders one port: listeners in order (the first whose hostname matches serves
// the request, TLS connection policies by SNI), then 404 for anything unmatched. A
// listener's routes are its route table (tables), which the gateway_routes handler
// serves: the server does not depend on them.
func (e *emitter) server(s *ir.HTTPServer) *caddyjson.Server {
	out := &caddyjson.Server{Listen: e.listen(s.Port), AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true}}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		table := caddyjson.RouteTable{Handler: caddyjson.RouteTableHandler, Table: caddyjson.TableName(s.Port, l.Hostname)}
		out.Routes = append(out.Routes, caddyjson.Route{
			Match:    hostMatch(l.Hostname),
			Handle:   []caddyjson.Handler{misdirectGuard(s, i, e.withRequestFilters(l, table))},
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

// renderLists renders the handler list of every route of s into e.hostLists, but those
// of the host groups the Memo holds (e.memo.take). Routes
// with the same list share its backing array, so that the encoder writes it once and
// copies its bytes (caddyjson.RouteLists).
func (e *emitter) renderLists(s *ir.HTTPServer) {
	for i := range s.Listeners {
		kept := e.memo.hosts(caddyjson.TableName(s.Port, s.Listeners[i].Hostname))
		for j := range s.Listeners[i].Hosts {
			h := &s.Listeners[i].Hosts[j]
			if e.memo.take(kept, h) {
				continue
			}
			lists := make([]int32, len(h.Routes))
			for k := range h.Routes {
				lists[k] = e.handlers(h.Routes[k].Action, h.Routes[k].Source.Rule)
			}
			e.hostLists[h] = lists
			e.routes += len(h.Routes)
		}
	}
}

// hostRoutes yields the Caddy routes of a host group, without host matchers (the
// gateway_routes handler dispatches by host), each built into the same scratch values
// (a large table allocates nothing per route). Route j is handled by list lists[j]
// (renderLists).
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
			route.Handle = e.lists[lists[j]]
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

// connectionPolicy is the TLS connection policy of an HTTPS listener, matched by SNI.
// A listener with certificates from Secrets selects them by tag (their names).
//
// A listener presenting automatic certificates has no certificate selection: Caddy
// caches managed certificates by name only, without tags (caddytls tags the
// certificates of its load_* loaders alone), so no tag can name them, and an empty
// selection would make every cached certificate eligible when none matches the name.
// Without a selection, certmagic looks the SNI up among the certificates whose names
// cover it, the exact name first: the managed certificate of the listener's own name
// (obtained ahead, or on demand once the permission allowed it) is the one found. A
// certificate of another listener is found only when its own names cover the SNI — a
// Secret's certificate naming it exactly or by a wildcard — and is then valid for it:
// while the listener holds no certificate of its own yet (obtaining, or its CA
// failing), such a certificate is presented, and an on-demand name it covers is not
// obtained. Caddy v2.11.9 offers no selection that excludes tagged certificates.
func connectionPolicy(l *ir.Listener) caddyjson.TLSConnectionPolicy {
	p := caddyjson.TLSConnectionPolicy{}
	if !usesAutomatic(l) {
		p.CertificateSelection = &caddyjson.CertificateSelection{AnyTag: l.Certificates}
	}
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

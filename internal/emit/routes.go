package emit

import (
	"regexp"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// server renders one port: listeners in order (the first whose hostname matches serves
// the request, TLS connection policies by SNI), then 404 for anything unmatched.
func (e *emitter) server(s *ir.HTTPServer) *caddyjson.Server {
	out := &caddyjson.Server{Listen: e.listen(s.Port), AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true}}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		out.Routes = append(out.Routes, caddyjson.Route{
			Match:    hostMatch(l.Hostname),
			Handle:   []caddyjson.Handler{e.listenerSubroute(l)},
			Terminal: true,
		})
		if s.TLS {
			out.TLSConnectionPolicies = append(out.TLSConnectionPolicies, connectionPolicy(l))
		}
	}
	out.Routes = append(out.Routes, caddyjson.Route{Handle: []caddyjson.Handler{status(404)}})
	return out
}

// listenerSubroute tries the host groups most specific first; a group without a
// matching route falls through to the next; nothing matched gives 404.
func (e *emitter) listenerSubroute(l *ir.Listener) caddyjson.Subroute {
	sub := caddyjson.Subroute{Handler: "subroute"}
	for i := range l.Hosts {
		h := &l.Hosts[i]
		routes := make([]caddyjson.Route, len(h.Routes))
		// One allocation for all matcher sets of the group instead of one per route.
		sets := make([]caddyjson.MatcherSet, len(h.Routes))
		regs := make([]caddyjson.Regexp, len(h.Routes))
		for j := range h.Routes {
			r := &h.Routes[j]
			matcherSet(&sets[j], &regs[j], &r.Match, needsPrefixGroups(r.Action))
			routes[j] = caddyjson.Route{Match: sets[j : j+1 : j+1], Handle: e.handlers(r.Action), Terminal: true}
		}
		var match []caddyjson.MatcherSet
		if h.Hostname != l.Hostname {
			match = hostMatch(h.Hostname)
		}
		sub.Routes = append(sub.Routes, caddyjson.Route{
			Match:  match,
			Handle: []caddyjson.Handler{caddyjson.Subroute{Handler: "subroute", Routes: routes}},
		})
	}
	sub.Routes = append(sub.Routes, caddyjson.Route{Handle: []caddyjson.Handler{status(404)}})
	return sub
}

// hostMatch matches a Gateway API host pattern against the request host (any port,
// case-insensitive); "*.x" is a suffix match of one or more labels.
func hostMatch(host string) []caddyjson.MatcherSet {
	if host == "" {
		return nil
	}
	return []caddyjson.MatcherSet{{HeaderRegexp: map[string]caddyjson.Regexp{"Host": {Pattern: hostPattern(host) + `(?::[0-9]+)?$`}}}}
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
	return p
}

// prefixRegexpName names the path regexp whose groups carry the rest of a prefix match:
// {http.regexp.p.1} is "/rest" or "", {http.regexp.p.2} is "rest" or "".
const prefixRegexpName = "p"

func needsPrefixGroups(a *ir.Action) bool {
	isPrefix := func(p *ir.PathModifier) bool { return p != nil && p.Type == ir.ReplacePrefixMatch }
	return a.Redirect != nil && isPrefix(a.Redirect.Path) || a.Rewrite != nil && isPrefix(a.Rewrite.Path)
}

// matcherSet renders one IR match (one matcher set, fields AND-ed) into set; a path
// regexp, when needed, is written to re.
func matcherSet(set *caddyjson.MatcherSet, re *caddyjson.Regexp, m *ir.Match, prefixGroups bool) {
	switch {
	case m.PathType == ir.PathExact:
		*re = caddyjson.Regexp{Pattern: exact(m.Path)}
		set.PathRegexp = re
	case m.PathType == ir.PathRegex:
		*re = caddyjson.Regexp{Pattern: anchored(m.Path)}
		set.PathRegexp = re
	case m.Path != "/" || prefixGroups:
		p := strings.TrimSuffix(m.Path, "/")
		*re = caddyjson.Regexp{Name: prefixRegexpName, Pattern: "^" + regexp.QuoteMeta(p) + "(/(.*))?$"}
		set.PathRegexp = re
	}
	if m.Method != "" {
		set.Method = []string{m.Method}
	}
	if len(m.Headers) > 0 {
		set.HeaderRegexp = make(map[string]caddyjson.Regexp, len(m.Headers))
	}
	for _, h := range m.Headers {
		set.HeaderRegexp[h.Name] = caddyjson.Regexp{Pattern: valuePattern(h)}
	}
	for _, q := range m.Query {
		if set.VarsRegexp == nil {
			set.VarsRegexp = map[string]caddyjson.Regexp{}
		}
		set.VarsRegexp["{http.request.uri.query."+q.Name+"}"] = caddyjson.Regexp{Pattern: valuePattern(q)}
	}
}

func valuePattern(s ir.StringMatch) string {
	if s.Type == ir.StringRegex {
		return anchored(s.Value)
	}
	return exact(s.Value)
}

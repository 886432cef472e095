package caddyjson

import (
	"encoding/json"
	"slices"
	"strconv"
)

// AppendJSON appends the JSON encoding of c to b. The bytes are identical to
// encoding/json.Marshal(c) (a test in package emit checks every golden and a
// generated config), but no reflection is involved: configs with tens of thousands of
// routes encode in milliseconds. Strings outside printable ASCII, and strings
// encoding/json escapes for HTML, fall back to encoding/json.
func (c *Config) AppendJSON(b []byte) ([]byte, error) {
	w := writer{b: b}
	w.config(c)
	return w.b, w.err
}

// writer accumulates JSON and the first error of a fallback encoding.
type writer struct {
	b   []byte
	err error
	// handles remembers where each route handler list was first written: routes that
	// share a list (same backing array, as emit shares them) copy those bytes.
	handles map[handleKey][2]int
}

// handleKey identifies a handler list by its backing array and length.
type handleKey struct {
	first *Handler
	n     int
}

// key writes a member name, preceded by a comma unless it opens the object. A
// complete JSON value never ends in '{', so the last byte tells.
func (w *writer) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *writer) open() { w.b = append(w.b, '{') }

func (w *writer) close() { w.b = append(w.b, '}') }

// str writes a JSON string; the fast path covers what encoding/json writes verbatim.
func (w *writer) str(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			w.marshal(s)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// marshal is the slow path: encoding/json for anything unusual.
func (w *writer) marshal(v any) {
	raw, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.b = append(w.b, raw...)
}

func (w *writer) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *writer) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// strs writes a string list; nil is null, as encoding/json writes it.
func (w *writer) strs(l []string) {
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i, s := range l {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(s)
	}
	w.b = append(w.b, ']')
}

// optStrs writes an omitempty string list member.
func (w *writer) optStrs(k string, l []string) {
	if len(l) > 0 {
		w.key(k)
		w.strs(l)
	}
}

func (w *writer) optStr(k, s string) {
	if s != "" {
		w.key(k)
		w.str(s)
	}
}

// sortedKeys returns the keys of m in encoding/json's order, or ok false when a key
// is not plain ASCII (then the caller falls back to encoding/json for the map).
func sortedKeys[V any](m map[string]V) ([]string, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !plainKey(k) {
			return nil, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, true
}

// onlyKey returns the key of a one-entry map without allocating; ok is false for
// other sizes and for keys that are not plain ASCII.
func onlyKey[V any](m map[string]V) (string, bool) {
	if len(m) != 1 {
		return "", false
	}
	for k := range m {
		return k, plainKey(k)
	}
	return "", false
}

// plainKey reports whether encoding/json writes k verbatim between quotes.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func (w *writer) strListMap(m map[string][]string) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	if k, ok := onlyKey(m); ok {
		w.open()
		w.key(k)
		w.strs(m[k])
		w.close()
		return
	}
	keys, ok := sortedKeys(m)
	if !ok {
		w.marshal(m)
		return
	}
	w.open()
	for _, k := range keys {
		w.key(k)
		w.strs(m[k])
	}
	w.close()
}

func (w *writer) regexpMap(m map[string]Regexp) {
	if k, ok := onlyKey(m); ok {
		r := m[k]
		w.open()
		w.key(k)
		w.regexp(&r)
		w.close()
		return
	}
	keys, ok := sortedKeys(m)
	if !ok {
		w.marshal(m)
		return
	}
	w.open()
	for _, k := range keys {
		w.key(k)
		r := m[k]
		w.regexp(&r)
	}
	w.close()
}

func (w *writer) config(c *Config) {
	w.open()
	if a := c.Admin; a != nil {
		w.key("admin")
		w.open()
		w.optStr("listen", a.Listen)
		if a.Config != nil {
			w.key("config")
			w.open()
			if a.Config.Persist != nil {
				w.key("persist")
				w.bool(*a.Config.Persist)
			}
			w.close()
		}
		w.close()
	}
	w.key("apps")
	w.open()
	if c.Apps.HTTP != nil {
		w.key("http")
		w.httpApp(c.Apps.HTTP)
	}
	if c.Apps.TLS != nil {
		w.key("tls")
		w.tlsApp(c.Apps.TLS)
	}
	w.close()
	w.close()
}

func (w *writer) httpApp(a *HTTPApp) {
	w.open()
	w.optStr("grace_period", a.GracePeriod)
	w.optStr("shutdown_delay", a.ShutdownDelay)
	if len(a.Servers) > 0 {
		w.key("servers")
		keys, ok := sortedKeys(a.Servers)
		if !ok {
			w.marshal(a.Servers)
		} else {
			w.open()
			for _, k := range keys {
				w.key(k)
				w.server(a.Servers[k])
			}
			w.close()
		}
	}
	w.close()
}

func (w *writer) server(s *Server) {
	if s == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open()
	w.key("listen")
	w.strs(s.Listen)
	if len(s.Routes) > 0 {
		w.key("routes")
		w.routes(s.Routes)
	}
	if len(s.TLSConnectionPolicies) > 0 {
		w.key("tls_connection_policies")
		writeList(w, s.TLSConnectionPolicies, w.connectionPolicy)
	}
	if s.AutoHTTPS != nil {
		w.key("automatic_https")
		w.open()
		if s.AutoHTTPS.Disable {
			w.key("disable")
			w.bool(true)
		}
		w.close()
	}
	w.optStrs("protocols", s.Protocols)
	if s.StrictSNIHost != nil {
		w.key("strict_sni_host")
		w.bool(*s.StrictSNIHost)
	}
	w.close()
}

// routes writes a route list; nil is null.
func (w *writer) routes(rs []Route) {
	if rs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	writeList(w, rs, w.route)
}

func (w *writer) route(r *Route) {
	w.open()
	if len(r.Match) > 0 {
		w.key("match")
		w.matcherSets(r.Match)
	}
	if len(r.Handle) > 0 {
		w.key("handle")
		w.handlerList(r.Handle)
	}
	if r.Terminal {
		w.key("terminal")
		w.bool(true)
	}
	w.close()
}

// handlerList writes a non-empty handler list, or copies its bytes when the same
// list was written before.
func (w *writer) handlerList(hs []Handler) {
	k := handleKey{first: &hs[0], n: len(hs)}
	if at, ok := w.handles[k]; ok {
		w.b = append(w.b, w.b[at[0]:at[1]]...)
		return
	}
	start := len(w.b)
	w.b = append(w.b, '[')
	for i, h := range hs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.handler(h)
	}
	w.b = append(w.b, ']')
	if w.handles == nil {
		w.handles = map[handleKey][2]int{}
	}
	w.handles[k] = [2]int{start, len(w.b)}
}

func (w *writer) matcherSets(sets []MatcherSet) {
	writeList(w, sets, w.matcherSet)
}

func (w *writer) matcherSet(m *MatcherSet) {
	w.open()
	w.optStrs("host", m.Host)
	w.optStrs("path", m.Path)
	if m.PathRegexp != nil {
		w.key("path_regexp")
		w.regexp(m.PathRegexp)
	}
	w.optStrs("method", m.Method)
	if len(m.HeaderRegexp) > 0 {
		w.key("header_regexp")
		w.regexpMap(m.HeaderRegexp)
	}
	if m.Query != nil {
		w.key("query")
		w.strListMap(*m.Query)
	}
	if len(m.VarsRegexp) > 0 {
		w.key("vars_regexp")
		w.regexpMap(m.VarsRegexp)
	}
	if len(m.Not) > 0 {
		w.key("not")
		w.matcherSets(m.Not)
	}
	w.optStr("expression", m.Expression)
	w.close()
}

func (w *writer) regexp(r *Regexp) {
	w.open()
	w.optStr("name", r.Name)
	w.key("pattern")
	w.str(r.Pattern)
	w.close()
}

// handler writes one handler struct; unknown types go through encoding/json.
func (w *writer) handler(h Handler) {
	switch v := h.(type) {
	case Subroute:
		w.open()
		w.key("handler")
		w.str(v.Handler)
		w.key("routes")
		w.routes(v.Routes)
		w.close()
	case StaticResponse:
		w.staticResponse(&v)
	case Headers:
		w.headers(&v)
	case Rewrite:
		w.rewrite(&v)
	case ReverseProxy:
		w.reverseProxy(&v)
	case RouteStream:
		w.routeStream(&v)
	default:
		w.marshal(h)
	}
}

func (w *writer) staticResponse(s *StaticResponse) {
	w.open()
	w.key("handler")
	w.str(s.Handler)
	if s.StatusCode != 0 {
		w.key("status_code")
		w.int(s.StatusCode)
	}
	if len(s.Headers) > 0 {
		w.key("headers")
		w.strListMap(s.Headers)
	}
	w.optStr("body", s.Body)
	w.close()
}

func (w *writer) headers(h *Headers) {
	w.open()
	w.key("handler")
	w.str(h.Handler)
	if h.Request != nil {
		w.key("request")
		w.open()
		w.headerOps(h.Request)
		w.close()
	}
	if h.Response != nil {
		w.key("response")
		w.open()
		w.headerOps(&h.Response.HeaderOps)
		if h.Response.Deferred {
			w.key("deferred")
			w.bool(true)
		}
		w.close()
	}
	w.close()
}

// headerOps writes the members of HeaderOps into an open object.
func (w *writer) headerOps(o *HeaderOps) {
	if len(o.Add) > 0 {
		w.key("add")
		w.strListMap(o.Add)
	}
	if len(o.Set) > 0 {
		w.key("set")
		w.strListMap(o.Set)
	}
	w.optStrs("delete", o.Delete)
}

func (w *writer) rewrite(r *Rewrite) {
	w.open()
	w.key("handler")
	w.str(r.Handler)
	w.optStr("uri", r.URI)
	if len(r.PathRegexp) > 0 {
		w.key("path_regexp")
		w.b = append(w.b, '[')
		for i, p := range r.PathRegexp {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.open()
			w.key("find")
			w.str(p.Find)
			w.key("replace")
			w.str(p.Replace)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	w.close()
}

func (w *writer) reverseProxy(rp *ReverseProxy) {
	w.open()
	w.key("handler")
	w.str(rp.Handler)
	w.key("upstreams")
	if rp.Upstreams == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i, u := range rp.Upstreams {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.open()
			w.key("dial")
			w.str(u.Dial)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	if rp.LoadBalancing != nil {
		w.key("load_balancing")
		w.loadBalancing(rp.LoadBalancing)
	}
	if rp.Headers != nil {
		w.key("headers")
		w.open()
		if rp.Headers.Request != nil {
			w.key("request")
			w.open()
			w.headerOps(rp.Headers.Request)
			w.close()
		}
		w.close()
	}
	if t := rp.Transport; t != nil {
		w.key("transport")
		w.open()
		w.key("protocol")
		w.str(t.Protocol)
		w.optStr("response_header_timeout", t.ResponseHeaderTimeout)
		w.optStrs("versions", t.Versions)
		w.close()
	}
	w.close()
}

func (w *writer) loadBalancing(lb *LoadBalancing) {
	w.open()
	if sp := lb.SelectionPolicy; sp != nil {
		w.key("selection_policy")
		w.open()
		w.key("policy")
		w.str(sp.Policy)
		if len(sp.Weights) > 0 {
			w.key("weights")
			w.b = append(w.b, '[')
			for i, n := range sp.Weights {
				if i > 0 {
					w.b = append(w.b, ',')
				}
				w.int(n)
			}
			w.b = append(w.b, ']')
		}
		w.close()
	}
	if lb.Retries != 0 {
		w.key("retries")
		w.int(lb.Retries)
	}
	w.optStr("try_duration", lb.TryDuration)
	w.optStr("try_interval", lb.TryInterval)
	if len(lb.RetryMatch) > 0 {
		w.key("retry_match")
		w.matcherSets(lb.RetryMatch)
	}
	w.close()
}

func (w *writer) tlsApp(a *TLSApp) {
	w.open()
	if a.Certificates != nil {
		w.key("certificates")
		w.open()
		if len(a.Certificates.LoadPEM) > 0 {
			w.key("load_pem")
			w.b = append(w.b, '[')
			for i := range a.Certificates.LoadPEM {
				c := &a.Certificates.LoadPEM[i]
				if i > 0 {
					w.b = append(w.b, ',')
				}
				w.open()
				w.key("certificate")
				w.str(c.Certificate)
				w.key("key")
				w.str(c.Key)
				w.optStrs("tags", c.Tags)
				w.close()
			}
			w.b = append(w.b, ']')
		}
		w.close()
	}
	w.close()
}

func (w *writer) connectionPolicy(p *TLSConnectionPolicy) {
	w.open()
	if m := p.Match; m != nil {
		w.key("match")
		w.open()
		w.optStrs("sni", m.SNI)
		if m.SNIRegexp != nil {
			w.key("sni_regexp")
			w.regexp(m.SNIRegexp)
		}
		w.close()
	}
	if cs := p.CertificateSelection; cs != nil {
		w.key("certificate_selection")
		w.open()
		w.optStrs("any_tag", cs.AnyTag)
		w.close()
	}
	if ca := p.ClientAuthentication; ca != nil {
		w.key("client_authentication")
		w.clientAuthentication(ca)
	}
	w.close()
}

func (w *writer) clientAuthentication(ca *ClientAuthentication) {
	w.open()
	if ca.CA != nil {
		w.key("ca")
		w.open()
		w.key("provider")
		w.str(ca.CA.Provider)
		w.optStrs("trusted_ca_certs", ca.CA.TrustedCACerts)
		w.close()
	}
	w.optStr("mode", ca.Mode)
	w.close()
}

// writeList writes xs as a JSON array, each element by each.
func writeList[T any](w *writer, xs []T, each func(*T)) {
	w.b = append(w.b, '[')
	for i := range xs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		each(&xs[i])
	}
	w.b = append(w.b, ']')
}

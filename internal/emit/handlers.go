package emit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// handlers renders an action: CORS, header filters, then a redirect, a direct status,
// or a (rewritten) proxied request, with request mirrors just before the last handler.
// It returns the list's index in e.lists. Routes sharing an IR action share the list.
// Plain proxy actions with the same content (most routes of a namespace reach the same
// Services) share it too: they are found by content, which is cheaper than one more
// lookup by action in a table as large as the route table. A split among several
// backends keeps the rule src in its state key, so only the matches of one rule share it.
func (e *emitter) handlers(a *ir.Action, src *ir.RuleSource) int32 {
	key, plain := e.proxyKey(a, src)
	if plain {
		if i, ok := e.proxyCache[string(key)]; ok {
			return i
		}
	} else if i, ok := e.handlerCache[a]; ok {
		return i
	}
	i := int32(len(e.lists))
	e.lists = append(e.lists, e.buildHandlers(a, src))
	if plain {
		e.proxyCache[string(key)] = i
	} else {
		e.handlerCache[a] = i
	}
	return i
}

// proxyKey is the content key of an action that only forwards to backends; plain is
// false for any other action. The key lives in a reused buffer. It holds the rule of
// a split (several backends), whose selection policy is keyed by it (splitKey).
func (e *emitter) proxyKey(a *ir.Action, src *ir.RuleSource) (key []byte, plain bool) {
	if a.RequestHeaders != nil || a.ResponseHeaders != nil || a.Redirect != nil || a.Rewrite != nil || a.DirectStatus != 0 ||
		len(a.Mirrors) > 0 || a.CORS != nil || hasBackendFilters(a) {
		return nil, false
	}
	k := append(e.keyBuf[:0], a.BackendProtocol...)
	if t := a.Timeouts; t != nil {
		k = strconv.AppendInt(append(k, "|t"...), int64(t.Request), 10)
		k = strconv.AppendInt(append(k, ','), int64(t.BackendRequest), 10)
	}
	if r := a.Retry; r != nil {
		k = strconv.AppendInt(append(k, "|r"...), int64(r.Attempts), 10)
		k = strconv.AppendInt(append(k, ','), int64(r.Backoff), 10)
		for _, c := range r.Codes {
			k = strconv.AppendInt(append(k, ','), int64(c), 10)
		}
	}
	for _, b := range a.Backends {
		k = append(append(k, '|'), b.Address...)
		k = strconv.AppendInt(append(k, ' '), int64(b.Weight), 10)
		k = strconv.AppendBool(k, b.Invalid)
		if t := backendTLS(&b); t != nil {
			k = strconv.AppendInt(append(k, " tls"...), int64(e.tlsID(t)), 10)
		}
	}
	if len(a.Backends) > 1 {
		k = appendRule(append(k, "|s"...), src)
	}
	e.keyBuf = k
	return k, true
}

func (e *emitter) buildHandlers(a *ir.Action, src *ir.RuleSource) []caddyjson.Handler {
	hs := make([]caddyjson.Handler, 0, 3)
	if a.CORS != nil {
		hs = append(hs, corsHandler(a.CORS))
	}
	hs = appendHeaderHandlers(hs, a.RequestHeaders, a.ResponseHeaders)
	if a.Redirect != nil {
		return append(append(hs, e.mirrorHandlers(a.Mirrors)...), redirect(a.Redirect))
	}
	if a.Rewrite != nil && a.Rewrite.Path != nil {
		hs = append(hs, caddyjson.Rewrite{Handler: "rewrite", URI: newPath(a.Rewrite.Path)})
	}
	// Mirrors see the request as the backend will (path rewritten; the rewritten Host
	// is set by reverse_proxy, so copies keep the client's).
	hs = append(hs, e.mirrorHandlers(a.Mirrors)...)
	if a.DirectStatus != 0 || len(a.Backends) == 0 {
		return append(hs, status(cmpOr(a.DirectStatus, 500)))
	}
	if t := a.Timeouts; t != nil && t.Request != 0 && a.Retry != nil {
		// Retries may start until the request timeout and then run past it: bound them.
		hs = append(hs, caddyjson.GatewayRequestTimeout{Handler: "gateway_request_timeout", Timeout: time.Duration(t.Request).String()})
	}
	return e.appendForward(hs, a, src)
}

// appendHeaderHandlers appends the handlers of request and response header filters.
func appendHeaderHandlers(hs []caddyjson.Handler, req, resp *ir.HeaderModifier) []caddyjson.Handler {
	if resp != nil {
		hs = append(hs, caddyjson.Headers{Handler: "headers",
			Response: &caddyjson.RespHeaderOps{HeaderOps: headerOps(resp), Deferred: true}})
	}
	if req != nil {
		ops := headerOps(req)
		hs = append(hs, caddyjson.Headers{Handler: "headers", Request: &ops})
	}
	return hs
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func headerOps(m *ir.HeaderModifier) caddyjson.HeaderOps {
	var ops caddyjson.HeaderOps
	for _, h := range m.Set {
		if ops.Set == nil {
			ops.Set = map[string][]string{}
		}
		ops.Set[lit(h.Name)] = []string{lit(h.Value)}
	}
	for _, h := range m.Add {
		if ops.Add == nil {
			ops.Add = map[string][]string{}
		}
		ops.Add[lit(h.Name)] = append(ops.Add[lit(h.Name)], lit(h.Value))
	}
	for _, n := range m.Remove {
		ops.Delete = append(ops.Delete, lit(n))
	}
	return ops
}

// newPath is the placeholder template of a modified path. A prefix replacement keeps
// the rest of the path after the matched prefix (groups of the "p" path regexp).
func newPath(p *ir.PathModifier) string {
	if p.Type == ir.ReplaceFullPath {
		return lit(p.Value)
	}
	v := strings.TrimSuffix(p.Value, "/")
	if v == "" {
		return "/{http.regexp." + prefixRegexpName + ".2}"
	}
	return lit(v) + "{http.regexp." + prefixRegexpName + ".1}"
}

// redirect answers with the Location of r, keeping the query string when there is one.
func redirect(r *ir.Redirect) caddyjson.Handler {
	host := "{http.request.host}"
	if r.Hostname != "" {
		host = lit(r.Hostname)
	}
	loc := r.Scheme + "://" + host
	if r.Port != 0 {
		loc += fmt.Sprintf(":%d", r.Port)
	}
	if r.Path != nil {
		loc += newPath(r.Path)
	} else {
		loc += "{http.request.uri.path}"
	}
	resp := func(l string) caddyjson.Handler {
		return caddyjson.StaticResponse{Handler: "static_response", StatusCode: r.StatusCode,
			Headers: map[string][]string{"Location": {l}}}
	}
	emptyQuery := map[string][]string{}
	return caddyjson.Subroute{Handler: "subroute", Routes: []caddyjson.Route{
		{Match: []caddyjson.MatcherSet{{Query: &emptyQuery}}, Handle: []caddyjson.Handler{resp(loc)}, Terminal: true},
		{Handle: []caddyjson.Handler{resp(loc + "?{http.request.uri.query}")}, Terminal: true},
	}}
}

// reverseProxy forwards to backends (the action's, or one of them) with the action's
// transport, timeouts and retries; invalid ones dial the 500 server. A non-empty host
// replaces the Host header. Choosing among several backends is appendForward's; the
// backends share their TLS (sameTLS), spoken by a gateway_tls transport.
func (e *emitter) reverseProxy(a *ir.Action, backends []ir.Backend, host string) caddyjson.ReverseProxy {
	rp := caddyjson.ReverseProxy{Handler: "reverse_proxy", Upstreams: make([]caddyjson.Upstream, 0, len(backends))}
	for _, b := range backends {
		dial := lit(b.Address)
		if b.Invalid {
			dial = "unix/" + e.opts.InvalidBackendSocket
		}
		rp.Upstreams = append(rp.Upstreams, caddyjson.Upstream{Dial: dial})
	}
	if host != "" {
		rp.Headers = &caddyjson.ProxyHeaders{Request: &caddyjson.HeaderOps{
			Set: map[string][]string{"Host": {lit(host)}}}}
	}
	if len(backends) > 0 && backendTLS(&backends[0]) != nil {
		rp.Transport = e.tlsTransport(a, backendTLS(&backends[0]))
		setTimeout(rp.Transport, a)
	} else {
		rp.Transport = transport(a)
	}
	rp.StreamCloseDelay = e.opts.StreamCloseDelay
	if a.Retry != nil {
		if rp.LoadBalancing == nil {
			rp.LoadBalancing = &caddyjson.LoadBalancing{}
		}
		retry(rp.LoadBalancing, a)
	}
	return rp
}

// transport sets the backend protocol and the per-attempt timeout; nil when Caddy's
// defaults do.
//
// Caddy v2.11.9 has no per-route deadline for a whole transaction, so both timeouts
// become response_header_timeout, the time from the request being written to the
// response headers: the shorter of request and backendRequest bounds each attempt
// (answering 504 when it expires), and request also stops further retries (see
// retry). A response body that streams after its headers is not cut off.
func transport(a *ir.Action) *caddyjson.HTTPTransport {
	if a.BackendProtocol != ir.ProtocolH2C && attemptTimeout(a) == 0 {
		return nil
	}
	tr := &caddyjson.HTTPTransport{Protocol: "http"}
	if a.BackendProtocol == ir.ProtocolH2C {
		tr.Versions = []string{"h2c", "2"}
	}
	setTimeout(tr, a)
	return tr
}

// attemptTimeout is the shorter of the action's request and backendRequest timeouts
// (see transport); 0 for none.
func attemptTimeout(a *ir.Action) ir.Duration {
	var d ir.Duration
	if t := a.Timeouts; t != nil {
		d = t.BackendRequest
		if t.Request != 0 && (d == 0 || t.Request < d) {
			d = t.Request
		}
	}
	return d
}

// setTimeout sets the transport's response_header_timeout to the attempt timeout.
func setTimeout(tr *caddyjson.HTTPTransport, a *ir.Action) {
	if d := attemptTimeout(a); d != 0 {
		tr.ResponseHeaderTimeout = time.Duration(d).String()
	}
}

// retry configures Caddy's load-balancer retries: Attempts retries, Backoff between
// them, no new attempt after the request timeout. Attempts that could not connect
// are always retried; responses only when their status is in Codes (a CEL expression
// on {http.reverse_proxy.status_code}, evaluated by Caddy on every upstream response
// since v2.11.3). With Codes set, other transport errors are not retried (the
// expression has no status to read); without Codes, Caddy retries them for GET only.
func retry(lb *caddyjson.LoadBalancing, a *ir.Action) {
	r := a.Retry
	lb.Retries = r.Attempts
	if r.Backoff != 0 {
		lb.TryInterval = time.Duration(r.Backoff).String()
	}
	if a.Timeouts != nil && a.Timeouts.Request != 0 {
		lb.TryDuration = time.Duration(a.Timeouts.Request).String()
	}
	if len(r.Codes) == 0 {
		return
	}
	codes := make([]byte, 0, 5*len(r.Codes))
	for i, c := range r.Codes {
		if i > 0 {
			codes = append(codes, ", "...)
		}
		codes = strconv.AppendInt(codes, int64(c), 10)
	}
	lb.RetryMatch = []caddyjson.MatcherSet{{Expression: "{http.reverse_proxy.status_code} in [" + string(codes) + "]"}}
}

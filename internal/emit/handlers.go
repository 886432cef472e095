package emit

import (
	"fmt"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// handlers renders an action: header filters, then a redirect, a direct status, or a
// (rewritten) proxied request.
func (e *emitter) handlers(a *ir.Action) []caddyjson.Handler {
	var hs []caddyjson.Handler
	if a.ResponseHeaders != nil {
		hs = append(hs, caddyjson.Headers{Handler: "headers",
			Response: &caddyjson.RespHeaderOps{HeaderOps: headerOps(a.ResponseHeaders), Deferred: true}})
	}
	if a.RequestHeaders != nil {
		ops := headerOps(a.RequestHeaders)
		hs = append(hs, caddyjson.Headers{Handler: "headers", Request: &ops})
	}
	if a.Redirect != nil {
		return append(hs, redirect(a.Redirect))
	}
	if a.Rewrite != nil && a.Rewrite.Path != nil {
		hs = append(hs, caddyjson.Rewrite{Handler: "rewrite", URI: newPath(a.Rewrite.Path)})
	}
	if a.DirectStatus != 0 || len(a.Backends) == 0 {
		return append(hs, status(cmpOr(a.DirectStatus, 500)))
	}
	return append(hs, e.reverseProxy(a))
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

// reverseProxy forwards to the weighted backends; invalid ones dial the 500 server.
func (e *emitter) reverseProxy(a *ir.Action) caddyjson.ReverseProxy {
	rp := caddyjson.ReverseProxy{Handler: "reverse_proxy"}
	weights := make([]int, 0, len(a.Backends))
	for _, b := range a.Backends {
		dial := lit(b.Address)
		if b.Invalid {
			dial = "unix/" + e.opts.InvalidBackendSocket
			e.usesInvalidBackend = true
		}
		rp.Upstreams = append(rp.Upstreams, caddyjson.Upstream{Dial: dial})
		weights = append(weights, int(b.Weight))
	}
	if len(a.Backends) > 1 {
		rp.LoadBalancing = &caddyjson.LoadBalancing{SelectionPolicy: &caddyjson.SelectionPolicy{
			Policy: "weighted_round_robin", Weights: weights}}
	}
	if a.Rewrite != nil && a.Rewrite.Hostname != "" {
		rp.Headers = &caddyjson.ProxyHeaders{Request: &caddyjson.HeaderOps{
			Set: map[string][]string{"Host": {lit(a.Rewrite.Hostname)}}}}
	}
	return rp
}

package emit

import (
	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// hasBackendFilters reports whether any backend of a carries its own filters.
func hasBackendFilters(a *ir.Action) bool {
	for i := range a.Backends {
		if a.Backends[i].Filters != nil {
			return true
		}
	}
	return false
}

// appendForward appends to hs what sends a request to the action's backends: one reverse_proxy
// choosing among them, or, when backends carry filters, a gateway_split choosing a
// branch per backend first (the filters of a backend run only for its requests). A
// single backend needs no choice: its filters run inline. In a split, each branch
// proxies to its one backend with the action's transport, timeouts and retries, so
// retries stay on the backend the split chose.
func (e *emitter) appendForward(hs []caddyjson.Handler, a *ir.Action) []caddyjson.Handler {
	if !hasBackendFilters(a) {
		return append(hs, e.reverseProxy(a, a.Backends, ruleHost(a)))
	}
	if len(a.Backends) == 1 {
		return append(hs, e.branch(a, &a.Backends[0])...)
	}
	split := caddyjson.GatewaySplit{Handler: "gateway_split", Branches: make([]caddyjson.SplitBranch, 0, len(a.Backends))}
	for i := range a.Backends {
		b := &a.Backends[i]
		split.Branches = append(split.Branches, caddyjson.SplitBranch{Weight: int(b.Weight),
			Routes: []caddyjson.Route{{Handle: e.branch(a, b)}}})
	}
	return append(hs, split)
}

// branch renders one backend with its filters, after the action's own (so a backend's
// rewrite wins): CORS, header filters, path rewrite, mirrors, then a redirect or the
// proxy. Response header filters of the backend run before the action's on the way out.
func (e *emitter) branch(a *ir.Action, b *ir.Backend) []caddyjson.Handler {
	host := ruleHost(a)
	f := b.Filters
	if f == nil {
		return []caddyjson.Handler{e.reverseProxy(a, []ir.Backend{*b}, host)}
	}
	hs := make([]caddyjson.Handler, 0, 5)
	if f.CORS != nil {
		hs = append(hs, corsHandler(f.CORS))
	}
	hs = appendHeaderHandlers(hs, f.RequestHeaders, f.ResponseHeaders)
	if f.Rewrite != nil {
		if f.Rewrite.Path != nil {
			hs = append(hs, caddyjson.Rewrite{Handler: "rewrite", URI: newPath(f.Rewrite.Path)})
		}
		if f.Rewrite.Hostname != "" {
			host = f.Rewrite.Hostname
		}
	}
	hs = append(hs, mirrorHandlers(f.Mirrors)...)
	if f.Redirect != nil {
		return append(hs, redirect(f.Redirect))
	}
	return append(hs, e.reverseProxy(a, []ir.Backend{*b}, host))
}

// ruleHost is the Host the action's rewrite sets, or "".
func ruleHost(a *ir.Action) string {
	if a.Rewrite != nil {
		return a.Rewrite.Hostname
	}
	return ""
}

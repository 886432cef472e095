package emit

import (
	"strconv"

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
// choosing among them, or, when backends carry filters or differ in TLS, a gateway_split
// choosing a branch per backend first (the filters of a backend run only for its
// requests; a transport speaks one TLS). A single backend needs no choice: its filters
// run inline. In a split, each branch
// proxies to its one backend with the action's transport, timeouts and retries, so
// retries stay on the backend the split chose. Both choose by smooth weighted round
// robin keyed by splitKey, which continues across config reloads.
func (e *emitter) appendForward(hs []caddyjson.Handler, a *ir.Action, src *ir.RuleSource) []caddyjson.Handler {
	if !hasBackendFilters(a) && sameTLS(a.Backends) {
		rp := e.reverseProxy(a, a.Backends, ruleHost(a))
		if len(a.Backends) > 1 {
			if rp.LoadBalancing == nil {
				rp.LoadBalancing = &caddyjson.LoadBalancing{}
			}
			rp.LoadBalancing.SelectionPolicy = &caddyjson.SelectionPolicy{
				Policy: "gateway_smooth", Key: splitKey(src, a.Backends), Weights: weights(a.Backends)}
		}
		return append(hs, rp)
	}
	if len(a.Backends) == 1 {
		return append(hs, e.branch(a, &a.Backends[0])...)
	}
	split := caddyjson.GatewaySplit{Handler: "gateway_split", Key: splitKey(src, a.Backends),
		Branches: make([]caddyjson.SplitBranch, 0, len(a.Backends))}
	for i := range a.Backends {
		b := &a.Backends[i]
		split.Branches = append(split.Branches, caddyjson.SplitBranch{Weight: int(b.Weight),
			Routes: []caddyjson.Route{{Handle: e.branch(a, b)}}})
	}
	return append(hs, split)
}

// splitKey names a split among backends for the state of its weighted round robin:
// the rule ("<kind> <namespace>/<name>/rule/<index>") and the backends' addresses
// ("invalid" for an invalid one), so that it stays the same while other routes of the
// Gateway change, an HTTPRoute and a GRPCRoute of one name do not share it, and a split
// with other backends starts afresh (the modules add the weights).
// A rule without a source gets "", a state of its own per config.
func splitKey(src *ir.RuleSource, backends []ir.Backend) string {
	if src == nil {
		return ""
	}
	k := appendRule(make([]byte, 0, 64), src)
	for i := range backends {
		if backends[i].Invalid {
			k = append(k, " invalid"...)
			continue
		}
		k = append(append(k, ' '), backends[i].Address...)
	}
	return string(k)
}

// appendRule appends "<kind> <namespace>/<name>/rule/<index>" of src ("<kind> " only
// when src names its kind; nothing for nil).
func appendRule(k []byte, src *ir.RuleSource) []byte {
	if src == nil {
		return k
	}
	if src.Kind != "" {
		k = append(append(k, src.Kind...), ' ')
	}
	k = append(append(append(append(k, src.Namespace...), '/'), src.Name...), "/rule/"...)
	return strconv.AppendInt(k, int64(src.Index), 10)
}

// weights are the backends' weights, in order.
func weights(backends []ir.Backend) []int {
	ws := make([]int, len(backends))
	for i := range backends {
		ws[i] = int(backends[i].Weight)
	}
	return ws
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
	hs = append(hs, e.mirrorHandlers(f.Mirrors)...)
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

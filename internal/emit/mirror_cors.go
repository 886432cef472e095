package emit

import (
	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// The handlers below are the operator's own Caddy modules (internal/caddymod). They
// expand no placeholders, so their values are written as they are, unescaped.

// corsHandler answers preflights and decorates responses; it runs first in a route so
// that preflights are answered before any other filter.
func corsHandler(c *ir.CORS) caddyjson.GatewayCORS {
	return caddyjson.GatewayCORS{Handler: "gateway_cors", AllowOrigins: c.AllowOrigins,
		AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders, ExposeHeaders: c.ExposeHeaders,
		AllowCredentials: c.AllowCredentials, MaxAge: int(c.MaxAge)}
}

// mirrorHandlers renders the mirrors; consecutive mirrors with the same percent,
// protocol and TLS share one handler (one sampling draw, one buffered body).
func (e *emitter) mirrorHandlers(ms []ir.Mirror) []caddyjson.Handler {
	var out []caddyjson.Handler
	for i := 0; i < len(ms); {
		j := i + 1
		for j < len(ms) && ms[j].Percent == ms[i].Percent && ms[j].Protocol == ms[i].Protocol && equalTLS(ms[j].TLS, ms[i].TLS) {
			j++
		}
		h := caddyjson.GatewayMirror{Handler: "gateway_mirror", Upstreams: make([]caddyjson.Upstream, 0, j-i),
			Protocol: string(ms[i].Protocol), TLS: e.tlsJSON(ms[i].TLS)}
		for _, m := range ms[i:j] {
			h.Upstreams = append(h.Upstreams, caddyjson.Upstream{Dial: m.Address})
		}
		if p := ms[i].Percent; p < 100 {
			h.Percent = &p
		}
		out = append(out, h)
		i = j
	}
	return out
}

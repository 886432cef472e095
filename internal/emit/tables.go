package emit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// tables renders the route tables of g's HTTP listeners (after config): one host table
// per host group, servers by port, listeners and host groups in IR order. Every host
// table is a slice of one buffer.
func (e *emitter) tables(g *ir.Gateway) ([]caddyjson.HostTable, error) {
	servers := make([]*ir.HTTPServer, len(g.HTTP))
	groups := 0
	for i := range g.HTTP {
		servers[i] = &g.HTTP[i]
		for j := range g.HTTP[i].Listeners {
			groups += len(g.HTTP[i].Listeners[j].Hosts)
		}
	}
	slices.SortStableFunc(servers, func(a, b *ir.HTTPServer) int { return cmp.Compare(a.Port, b.Port) })
	out := make([]caddyjson.HostTable, 0, groups)
	spans := make([][2]int, 0, groups)
	lists := caddyjson.NewRouteLists(make([]byte, 0, tablesSizeHint(e.routes, groups)))
	for _, s := range servers {
		for i := range s.Listeners {
			l := &s.Listeners[i]
			name := caddyjson.TableName(s.Port, l.Hostname)
			for j := range l.Hosts {
				h := &l.Hosts[j]
				start, end := lists.Append(e.hostRoutes(h, e.hostLists[h]))
				spans = append(spans, [2]int{start, end})
				out = append(out, caddyjson.HostTable{Table: name, Host: h.Hostname})
			}
		}
	}
	b, err := lists.Bytes()
	if err != nil {
		return nil, err
	}
	for i, sp := range spans {
		routes := b[sp[0]:sp[1]:sp[1]]
		sum := sha256.Sum256(routes)
		out[i].Routes, out[i].Hash = routes, hex.EncodeToString(sum[:])
	}
	return out, nil
}

// tablesSizeHint estimates the encoded size of the route tables: about 512 bytes per
// route (its matchers and its handler list), and the brackets of each host table.
func tablesSizeHint(routes, groups int) int {
	return 512*routes + 2*groups
}

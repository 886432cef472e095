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
// table is a slice of one buffer; each is hashed on another goroutine once written, so
// that with a second core the hashes of a large table cost no wall time.
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
	h := startTableHasher(groups)
	lists := caddyjson.NewRouteLists(make([]byte, 0, tablesSizeHint(e.routes, groups)))
	for _, s := range servers {
		for i := range s.Listeners {
			l := &s.Listeners[i]
			name := caddyjson.TableName(s.Port, l.Hostname)
			for j := range l.Hosts {
				hg := &l.Hosts[j]
				start, end := lists.Append(e.hostRoutes(hg, e.hostLists[hg]))
				// The bytes written are never written again, whatever is appended later.
				b, _ := lists.Bytes()
				h.hash(b[start:end:end])
				spans = append(spans, [2]int{start, end})
				out = append(out, caddyjson.HostTable{Table: name, Host: hg.Hostname})
			}
		}
	}
	sums := h.wait()
	b, err := lists.Bytes()
	if err != nil {
		return nil, err
	}
	for i, sp := range spans {
		out[i].Routes, out[i].Hash = b[sp[0]:sp[1]:sp[1]], sums[i]
	}
	return out, nil
}

// tableHasher hashes the routes of host tables, in order, on its own goroutine.
type tableHasher struct {
	routes chan []byte
	sums   []string
	done   chan struct{}
}

func startTableHasher(n int) *tableHasher {
	h := &tableHasher{routes: make(chan []byte, 64), sums: make([]string, 0, n), done: make(chan struct{})}
	go func() {
		for r := range h.routes {
			sum := sha256.Sum256(r)
			h.sums = append(h.sums, hex.EncodeToString(sum[:]))
		}
		close(h.done)
	}()
	return h
}

// hash adds the routes of the next host table, which must not change afterwards.
func (h *tableHasher) hash(routes []byte) { h.routes <- routes }

// wait returns the hex SHA-256 of each host table's routes, in order; h must not be
// used afterwards.
func (h *tableHasher) wait() []string {
	close(h.routes)
	<-h.done
	return h.sums
}

// tablesSizeHint estimates the encoded size of the route tables: about 512 bytes per
// route (its matchers and its handler list), and the brackets of each host table.
func tablesSizeHint(routes, groups int) int {
	return 512*routes + 2*groups
}

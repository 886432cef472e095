package emit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"slices"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// tables renders the route tables of g's HTTP listeners (after config): one host table
// per host group, servers by port, listeners and host groups in IR order. Every host
// table is a slice of one buffer; each is hashed on another goroutine once written, so
// that with a second core the hashes of a large table cost no wall time.
func (e *emitter) tables(g *ir.Gateway) ([]caddyjson.HostTable, error) {
	groups := 0
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			groups += len(g.HTTP[i].Listeners[j].Hosts)
		}
	}
	out := make([]caddyjson.HostTable, 0, groups)
	// What the host tables rendered are cut from is sized for them alone: host tables
	// kept by a Memo hold on to it.
	render := groups - e.memo.taken()
	spans := make([][2]int, 0, render)
	h := startTableHasher(render)
	lists := caddyjson.NewRouteLists(make([]byte, 0, tablesSizeHint(e.routes, render)))
	sources := newSourceArena(e.routes, render)
	e.memo.reserve(e.routes)
	// rendered are the positions in out of the host tables rendered (not taken from
	// the Memo), in order, with their host groups.
	type rendered struct {
		at int
		hg *ir.HostGroup
	}
	var done []rendered
	for table, hg := range hostGroups(g) {
		if t := e.memo.hit(hg); t != nil {
			out = append(out, t.out)
			continue
		}
		start, end := lists.Append(e.hostRoutes(hg, e.hostLists[hg]))
		// The bytes written are never written again, whatever is appended later.
		b, _ := lists.Bytes()
		h.hash(b[start:end:end])
		spans = append(spans, [2]int{start, end})
		done = append(done, rendered{len(out), hg})
		out = append(out, caddyjson.HostTable{Table: table, Host: hg.Hostname, Sources: sources.of(hg)})
	}
	sums := h.wait()
	b, err := lists.Bytes()
	if err != nil {
		return nil, err
	}
	for i, sp := range spans {
		t := &out[done[i].at]
		t.Routes, t.Hash = b[sp[0]:sp[1]:sp[1]], sums[i]
		e.memo.keep(done[i].hg, *t)
	}
	return out, nil
}

// hostGroups yields the host groups of g's HTTP listeners with the name of their
// table: servers by port, listeners and host groups in IR order.
func hostGroups(g *ir.Gateway) iter.Seq2[string, *ir.HostGroup] {
	return func(yield func(string, *ir.HostGroup) bool) {
		servers := make([]*ir.HTTPServer, len(g.HTTP))
		for i := range g.HTTP {
			servers[i] = &g.HTTP[i]
		}
		slices.SortStableFunc(servers, func(a, b *ir.HTTPServer) int { return cmp.Compare(a.Port, b.Port) })
		for _, s := range servers {
			for i := range s.Listeners {
				l := &s.Listeners[i]
				table := caddyjson.TableName(s.Port, l.Hostname)
				for j := range l.Hosts {
					if !yield(table, &l.Hosts[j]) {
						return
					}
				}
			}
		}
	}
}

// TypedTable is a host table with typed routes (TypedTables).
type TypedTable struct {
	Table, Host string
	Routes      []caddyjson.Route
}

// TypedTables renders g's host tables as typed routes, in the order of Result.Tables:
// encoding/json writes each one's Routes as the bytes of the host table's Routes.
func TypedTables(g *ir.Gateway, opts Options) ([]TypedTable, error) {
	opts.Memo = nil
	_, e, err := config(g, opts)
	if err != nil {
		return nil, err
	}
	var out []TypedTable
	for table, hg := range hostGroups(g) {
		t := TypedTable{Table: table, Host: hg.Hostname, Routes: []caddyjson.Route{}}
		for r := range e.hostRoutes(hg, e.hostLists[hg]) {
			t.Routes = append(t.Routes, cloneRoute(r))
		}
		out = append(out, t)
	}
	return out, nil
}

// cloneRoute copies a route of hostRoutes out of its scratch values.
func cloneRoute(r *caddyjson.Route) caddyjson.Route {
	c := *r
	c.Match = slices.Clone(r.Match)
	for i := range c.Match {
		m := &c.Match[i]
		if m.PathRegexp != nil {
			re := *m.PathRegexp
			m.PathRegexp = &re
		}
		m.Method = slices.Clone(m.Method)
		m.HeaderRegexp = slices.Clone(m.HeaderRegexp)
		m.VarsRegexp = slices.Clone(m.VarsRegexp)
	}
	return c
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

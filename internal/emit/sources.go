package emit

import (
	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// sourceArena names the Gateway API route of each route of the host tables of one emit
// (caddyjson.HostTable.Sources). The sources and their route indexes of all host tables
// are slices of two buffers, so that thousands of host groups do not cost allocations
// each; only a source's key is a string of its own.
type sourceArena struct {
	sources []caddyjson.RouteSource
	idx     []int32
	// Scratch of one host group: its sources' routes, the group's source of each route,
	// the number of routes of each source, and the sources by route when the group has
	// many.
	ids   []routeID
	srcOf []int32
	count []int32
	at    map[routeID]int32
}

// routeID identifies a Gateway API route.
type routeID struct{ kind, namespace, name string }

// manySources is how many sources a host group has before they are looked up by map.
const manySources = 8

func newSourceArena(routes, groups int) *sourceArena {
	return &sourceArena{sources: make([]caddyjson.RouteSource, 0, groups), idx: make([]int32, 0, routes)}
}

// of names the source of each route of hg, sources in the order their routes first
// appear: Caddy leaves out the routes of a source whose routes do not provision.
func (a *sourceArena) of(hg *ir.HostGroup) []caddyjson.RouteSource {
	first := len(a.sources)
	a.ids, a.srcOf, a.count = a.ids[:0], a.srcOf[:0], a.count[:0]
	last, prev := int32(-1), routeID{}
	for j := range hg.Routes {
		rs := hg.Routes[j].Source.Rule
		if rs == nil {
			a.srcOf = append(a.srcOf, -1)
			continue
		}
		if id := (routeID{rs.Kind, rs.Namespace, rs.Name}); last < 0 || id != prev {
			last, prev = a.find(id), id
		}
		a.srcOf = append(a.srcOf, last)
		a.count[last]++
	}
	mine := a.sources[first:len(a.sources):len(a.sources)]
	for i := range mine {
		n := len(a.idx)
		a.idx = append(a.idx, make([]int32, a.count[i])...)
		mine[i].Routes = a.idx[n:n:len(a.idx)]
	}
	for j, i := range a.srcOf {
		if i >= 0 {
			mine[i].Routes = append(mine[i].Routes, int32(j))
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return mine
}

// find is the index among the group's sources of the source id, added when new.
func (a *sourceArena) find(id routeID) int32 {
	if len(a.ids) <= manySources {
		for i := range a.ids {
			if a.ids[i] == id {
				return int32(i)
			}
		}
	} else if i, ok := a.at[id]; ok {
		return i
	}
	i := int32(len(a.ids))
	a.ids = append(a.ids, id)
	a.sources = append(a.sources, caddyjson.RouteSource{Key: caddyjson.RouteSourceKey(id.kind, id.namespace, id.name)})
	a.count = append(a.count, 0)
	switch {
	case len(a.ids) == manySources+1:
		// The group outgrows the linear search: index its sources.
		if a.at == nil {
			a.at = make(map[routeID]int32, 2*manySources)
		}
		clear(a.at)
		for k, id := range a.ids {
			a.at[id] = int32(k)
		}
	case len(a.ids) > manySources+1:
		a.at[id] = i
	}
	return i
}

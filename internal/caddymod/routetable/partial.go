package routetable

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// partial is a host table that did not provision whole but did without the routes of
// the sources that fail alone.
type partial struct {
	// table is the version served: ht's routes without the refused sources' ones, hashed
	// as they are.
	table   caddyjson.HostTable
	refused []caddyjson.RefusedSource
	gens    map[newGen]*generation
}

// provisionPartial provisions each source of ht alone and then ht without the routes of
// the sources that failed, for every live handler of its table. It returns nil, and ht
// fails whole, when ht has no sources, when no source fails alone (the error is not one
// route's) or when ht does not provision without them; err then says what in ht's
// sources is malformed, if anything.
func (r *registry) provisionPartial(ht *caddyjson.HostTable) (*partial, error) {
	if len(ht.Sources) == 0 {
		return nil, nil
	}
	var routes []json.RawMessage
	if err := json.Unmarshal(ht.Routes, &routes); err != nil {
		return nil, nil
	}
	if err := checkSourceIndexes(ht.Sources, len(routes)); err != nil {
		return nil, err
	}
	dropped := make([]bool, len(routes))
	var refused []caddyjson.RefusedSource
	for i := range ht.Sources {
		src := &ht.Sources[i]
		if err := r.trial(ht.Table, pick(routes, src.Routes)); err != nil {
			refused = append(refused, caddyjson.RefusedSource{Key: src.Key, Error: err.Error()})
			for _, j := range src.Routes {
				dropped[j] = true
			}
		}
	}
	if len(refused) == 0 {
		return nil, nil
	}
	kept := make([]int32, 0, len(routes))
	for j := range routes {
		if !dropped[j] {
			kept = append(kept, int32(j))
		}
	}
	p := &partial{table: caddyjson.HostTable{Table: ht.Table, Host: ht.Host, Routes: pick(routes, kept)}, refused: refused}
	p.table.Hash = hashOf(&p.table)
	gens, err := r.provisionOne(&p.table)
	if err != nil {
		return nil, nil
	}
	p.gens = gens
	return p, nil
}

// trial provisions routes as a host table of table would be, for every live handler of
// the table as provisionOne does, and cleans them up at once: a source fails its trial
// when it would fail any of them.
func (r *registry) trial(table string, routes json.RawMessage) error {
	gens, err := r.provisionOne(&caddyjson.HostTable{Table: table, Routes: routes})
	cancelAll(gens)
	return err
}

// pick is the JSON list of the routes at the indexes idx.
func pick(routes []json.RawMessage, idx []int32) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for n, j := range idx {
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(routes[j])
	}
	b.WriteByte(']')
	return b.Bytes()
}

// checkSourceIndexes checks that the indexes of sources are among n routes, ascending
// within a source, and of one source each.
func checkSourceIndexes(sources []caddyjson.RouteSource, n int) error {
	owner := make([]int, n)
	for i := range sources {
		prev := int32(-1)
		for k, j := range sources[i].Routes {
			switch {
			case j <= prev:
				return fmt.Errorf("sources[%d].routes[%d]: index %d is not ascending", i, k, j)
			case int(j) >= n:
				return fmt.Errorf("sources[%d].routes[%d]: index %d is not among the host table's %d routes", i, k, j, n)
			case owner[j] != 0:
				return fmt.Errorf("sources[%d].routes[%d]: route %d is also of sources[%d]", i, k, j, owner[j]-1)
			}
			owner[j], prev = i+1, j
		}
	}
	return nil
}

// validSources checks the keys of a host table's sources: each named, none twice.
func validSources(sources []caddyjson.RouteSource) error {
	seen := make(map[string]bool, len(sources))
	for i := range sources {
		k := sources[i].Key
		if k == "" {
			return fmt.Errorf("sources[%d].key is empty", i)
		}
		if seen[k] {
			return fmt.Errorf("sources[%d].key %q is given twice", i, k)
		}
		seen[k] = true
	}
	return nil
}

// refusedError says which sources of a host table were refused and why.
func refusedError(refused []caddyjson.RefusedSource) error {
	msgs := make([]string, len(refused))
	for i, s := range refused {
		msgs[i] = fmt.Sprintf("the routes of %s did not provision and are left out: %s", s.Key, s.Error)
	}
	return errors.New(strings.Join(msgs, "; "))
}

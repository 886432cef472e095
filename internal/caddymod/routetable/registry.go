package routetable

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// stored is a host table as the registry keeps it.
type stored struct {
	routes json.RawMessage
	hash   string
}

// registry is the process's route tables and the handlers serving them. It outlives
// config loads: a handler provisioned by a new config serves the tables already held.
type registry struct {
	mu sync.Mutex
	// tables holds the host tables by table, then host.
	tables map[string]map[string]stored
	// live holds the provisioned handlers of each table (two during a config reload).
	live map[string]map[*Handler]struct{}
}

var reg = &registry{tables: map[string]map[string]stored{}, live: map[string]map[*Handler]struct{}{}}

// hostError names the host table a provisioning error comes from.
func hostError(table, host string, err error) error {
	return fmt.Errorf("table %q host %q: %w", table, host, err)
}

// register provisions h's table from the registry and adds h to the live handlers.
func (r *registry) register(h *Handler) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	gens := make(map[string]*generation, len(r.tables[h.Table]))
	for host, st := range r.tables[h.Table] {
		g, err := provision(h.ctx, st.routes)
		if err != nil {
			cancelAll(gens)
			return hostError(h.Table, host, err)
		}
		gens[host] = g
	}
	h.snap.Store(newSnapshot(gens))
	if r.live[h.Table] == nil {
		r.live[h.Table] = map[*Handler]struct{}{}
	}
	r.live[h.Table][h] = struct{}{}
	return nil
}

// unregister drops h from the live handlers and retires its generations.
func (r *registry) unregister(h *Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.live[h.Table][h]; !ok {
		return
	}
	delete(r.live[h.Table], h)
	if len(r.live[h.Table]) == 0 {
		delete(r.live, h.Table)
	}
	h.gone.Store(true)
	old := h.snap.Swap(newSnapshot(nil))
	old.all((*generation).retire)
}

// successor is a live handler of gone's table, which serves the requests that still
// reach gone after its config was unloaded (a connection Caddy did not close); nil
// when the table has none.
func (r *registry) successor(gone *Handler) *Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range r.live[gone.Table] {
		return h
	}
	return nil
}

func cancelAll[K comparable](gens map[K]*generation) {
	for _, g := range gens {
		g.cancel()
	}
}

// newGen is a generation provisioned for a live handler by a delta.
type newGen struct {
	h    *Handler
	host string
}

// apply applies d one host table at a time: each host table set is provisioned for every
// live handler of its table (or, with none, in a context cancelled at once) before any
// change is made; those that provision are swapped in. One that does not is served
// without the routes of its sources that fail alone, when that provisions
// (provisionPartial), else it keeps the version it had; both are answered in the
// result. A delta whose keys are malformed changes nothing.
func (r *registry) apply(d *caddyjson.TablesDelta) (caddyjson.TablesResult, error) {
	if err := validate(d); err != nil {
		return caddyjson.TablesResult{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	gens, failed := r.provisionSet(d.Set)
	for table, c := range r.store(d, failed) {
		for h := range r.live[table] {
			h.swap(c, gens)
		}
	}
	return r.result(failed), nil
}

// tableChange is what a delta changes in one table: the hosts set and those dropped.
type tableChange struct {
	set, drop []string
}

// provisionSet provisions the host tables of set for the live handlers of their tables.
// A host table that fails for one handler is provisioned for none: its error is returned
// by key, in set's order.
func (r *registry) provisionSet(set []caddyjson.HostTable) (map[newGen]*generation, []failure) {
	gens := map[newGen]*generation{}
	var failed []failure
	for i := range set {
		ht := &set[i]
		mine, err := r.provisionOne(ht)
		if err != nil {
			f := failure{key: ht.Key(), err: hostError(ht.Table, ht.Host, err)}
			switch p, perr := r.provisionPartial(ht); {
			case perr != nil:
				f.err = hostError(ht.Table, ht.Host, fmt.Errorf("%w; %w", err, perr))
			case p != nil:
				f.partial, f.err = p, hostError(ht.Table, ht.Host, refusedError(p.refused))
				maps.Copy(gens, p.gens)
			}
			failed = append(failed, f)
			continue
		}
		maps.Copy(gens, mine)
	}
	return gens, failed
}

// failure is a host table of a delta that did not provision whole.
type failure struct {
	key caddyjson.HostKey
	err error
	// partial, when set, is the version served instead: without its refused sources.
	partial *partial
}

// provisionOne provisions ht for every live handler of its table, or, with none, in a
// context cancelled at once; on an error it cancels what it provisioned.
func (r *registry) provisionOne(ht *caddyjson.HostTable) (map[newGen]*generation, error) {
	if len(r.live[ht.Table]) == 0 {
		g, err := provision(caddy.ActiveContext(), ht.Routes)
		if err != nil {
			return nil, err
		}
		g.cancel()
		return nil, nil
	}
	gens := make(map[newGen]*generation, len(r.live[ht.Table]))
	for h := range r.live[ht.Table] {
		g, err := provision(h.ctx, ht.Routes)
		if err != nil {
			cancelAll(gens)
			return nil, err
		}
		gens[newGen{h, ht.Host}] = g
	}
	return gens, nil
}

// result is the answer to a delta whose failed host tables are failed, with the version
// each still holds.
func (r *registry) result(failed []failure) caddyjson.TablesResult {
	res := caddyjson.TablesResult{Failed: make([]caddyjson.HostTableError, 0, len(failed))}
	msgs := make([]string, 0, len(failed))
	whole := 0
	for _, f := range failed {
		e := caddyjson.HostTableError{
			Table: f.key.Table, Host: f.key.Host, Error: f.err.Error(), Held: r.tables[f.key.Table][f.key.Host].hash,
		}
		if f.partial != nil {
			e.Refused = f.partial.refused
		} else {
			whole++
		}
		res.Failed = append(res.Failed, e)
		msgs = append(msgs, f.err.Error())
	}
	if len(failed) > 0 {
		res.Error = fmt.Sprintf("%d of the host tables set did not provision: %d keep their last good version, %d serve all but the refused routes: %s",
			len(failed), whole, len(failed)-whole, strings.Join(msgs, "; "))
	}
	return res
}

// store records d in the registry, but for the host tables of its Set that failed (of
// those served without their refused sources, that version), and returns what it
// changed by table. A replacement keeps the failed host tables too.
func (r *registry) store(d *caddyjson.TablesDelta, failed []failure) map[string]*tableChange {
	changes := map[string]*tableChange{}
	change := func(table string) *tableChange {
		if changes[table] == nil {
			changes[table] = &tableChange{}
		}
		return changes[table]
	}
	drop := d.Delete
	if d.Replace {
		drop = r.keysNotSet(d.Set)
	}
	for _, k := range drop {
		if _, ok := r.tables[k.Table][k.Host]; ok {
			delete(r.tables[k.Table], k.Host)
			change(k.Table).drop = append(change(k.Table).drop, k.Host)
		}
	}
	skip := make(map[caddyjson.HostKey]*partial, len(failed))
	for _, f := range failed {
		skip[f.key] = f.partial
	}
	for i := range d.Set {
		ht := &d.Set[i]
		if p, ok := skip[ht.Key()]; ok {
			if p == nil {
				continue
			}
			ht = &p.table
		}
		if r.tables[ht.Table] == nil {
			r.tables[ht.Table] = map[string]stored{}
		}
		r.tables[ht.Table][ht.Host] = stored{routes: ht.Routes, hash: hashOf(ht)}
		change(ht.Table).set = append(change(ht.Table).set, ht.Host)
	}
	for table := range changes {
		if len(r.tables[table]) == 0 {
			delete(r.tables, table)
		}
	}
	return changes
}

// keysNotSet lists the host tables held that set does not hold.
func (r *registry) keysNotSet(set []caddyjson.HostTable) []caddyjson.HostKey {
	in := make(map[caddyjson.HostKey]bool, len(set))
	for i := range set {
		in[set[i].Key()] = true
	}
	var keys []caddyjson.HostKey
	for table, hosts := range r.tables {
		for host := range hosts {
			if k := (caddyjson.HostKey{Table: table, Host: host}); !in[k] {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// hashOf is the hash a host table is stored with: the one it came with, else the hex
// SHA-256 of its routes.
func hashOf(ht *caddyjson.HostTable) string {
	if ht.Hash != "" {
		return ht.Hash
	}
	sum := sha256.Sum256(ht.Routes)
	return hex.EncodeToString(sum[:])
}

// state lists the host tables held, sorted by table and host.
func (r *registry) state() caddyjson.TablesState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := caddyjson.TablesState{Tables: []caddyjson.HostTable{}}
	for _, table := range slices.Sorted(maps.Keys(r.tables)) {
		for _, host := range slices.Sorted(maps.Keys(r.tables[table])) {
			st.Tables = append(st.Tables, caddyjson.HostTable{Table: table, Host: host, Hash: r.tables[table][host].hash})
		}
	}
	return st
}

// validate checks the keys of d: hosts well formed, no host table set twice or both set
// and deleted.
func validate(d *caddyjson.TablesDelta) error {
	seen := map[caddyjson.HostKey]bool{}
	for i := range d.Set {
		k := d.Set[i].Key()
		if err := validKey(k); err != nil {
			return fmt.Errorf("set[%d]: %w", i, err)
		}
		if seen[k] {
			return fmt.Errorf("set[%d]: table %q host %q is set twice", i, k.Table, k.Host)
		}
		if err := validSources(d.Set[i].Sources); err != nil {
			return fmt.Errorf("set[%d] (table %q host %q): %w", i, k.Table, k.Host, err)
		}
		seen[k] = true
	}
	for i, k := range d.Delete {
		if seen[k] {
			return fmt.Errorf("delete[%d]: table %q host %q is both set and deleted", i, k.Table, k.Host)
		}
	}
	return nil
}

func validKey(k caddyjson.HostKey) error {
	switch {
	case k.Table == "":
		return fmt.Errorf("table is empty")
	case strings.ToLower(k.Host) != k.Host:
		return fmt.Errorf("table %q host %q: host must be lower case", k.Table, k.Host)
	case strings.ContainsAny(k.Host, ":/"):
		return fmt.Errorf("table %q host %q: host must not hold ':' or '/'", k.Table, k.Host)
	case strings.HasPrefix(k.Host, "*") && (!strings.HasPrefix(k.Host, "*.") || len(k.Host) < 3 || strings.Contains(k.Host[1:], "*")):
		return fmt.Errorf("table %q host %q: a wildcard host is \"*.\" and a suffix", k.Table, k.Host)
	case !strings.HasPrefix(k.Host, "*") && strings.Contains(k.Host, "*"):
		return fmt.Errorf("table %q host %q: '*' only as the first label", k.Table, k.Host)
	}
	return nil
}

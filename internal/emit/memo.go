package emit

import (
	"reflect"
	"slices"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// Memo keeps the host tables of a Gateway's last emit (Options.Memo), so that the next
// one renders only the host groups whose routes changed: a one-route change among
// 10,000 host groups renders one host table instead of 10,000. A host group is taken
// from the Memo when its table and hostname are the same and its IR routes are the same
// values, pointer for pointer: the IR is read only, and a translation that kept a
// route's checked rules (translator.Memo) hands out the same matches and actions for
// it. Any change to the options, and backend client certificates (whose contents the
// host tables hold), render everything again.
//
// The Result is the same with or without a Memo (TestMemoEmitsAsWithout). A Memo
// belongs to one Gateway and is used by one emit at a time.
type Memo struct {
	opts Options
	// tables holds the host tables by route table, then host; each is marked with the
	// last emit that used it.
	tables map[string]map[string]*memoTable
	// pass numbers the emits.
	pass uint32
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo { return &Memo{} }

// memoTable is a rendered host table and the IR routes it was rendered from; holding
// them keeps their matches and actions, and so their addresses, from being reused.
type memoTable struct {
	routes []ir.Route
	out    caddyjson.HostTable
	pass   uint32
}

// memoUse is one emit's view of its Memo, nil without one: the host tables it takes
// from it, by host group, and the copies of the IR routes of those it renders.
type memoUse struct {
	memo   *Memo
	hits   map[*ir.HostGroup]*memoTable
	routes []ir.Route
}

// useMemo returns the view of o.Memo for an emit with options o (with their defaults)
// and the backend client certificates certs.
func useMemo(o Options, certs map[string]*ir.Certificate) memoUse {
	m := o.Memo
	if m == nil {
		return memoUse{}
	}
	o.Memo = nil
	if len(certs) > 0 || !reflect.DeepEqual(m.opts, o) {
		m.opts, m.tables = o, map[string]map[string]*memoTable{}
	}
	m.pass++
	return memoUse{memo: m, hits: map[*ir.HostGroup]*memoTable{}}
}

// hosts returns the host tables the Memo holds for table, by host; nil without a Memo.
func (u *memoUse) hosts(table string) map[string]*memoTable {
	if u.memo == nil {
		return nil
	}
	return u.memo.tables[table]
}

// take reports whether the host group h is the one hosts (of its table) holds, and
// marks it taken if so.
func (u *memoUse) take(hosts map[string]*memoTable, h *ir.HostGroup) bool {
	prev := hosts[h.Hostname]
	if prev == nil || !slices.Equal(prev.routes, h.Routes) {
		return false
	}
	prev.pass = u.memo.pass
	u.hits[h] = prev
	return true
}

// taken is the number of host tables taken from the Memo.
func (u *memoUse) taken() int { return len(u.hits) }

// reserve makes room for copies of n IR routes of the host tables rendered (keep): the
// IR's own routes are cut from an array of the whole Gateway's, which a host table kept
// for long would hold on to.
func (u *memoUse) reserve(n int) {
	if u.memo != nil {
		u.routes = make([]ir.Route, 0, n)
	}
}

// hit returns the host table taken for h, or nil.
func (u *memoUse) hit(h *ir.HostGroup) *memoTable { return u.hits[h] }

// keep keeps the host table out, rendered from h, for the next emit.
func (u *memoUse) keep(h *ir.HostGroup, out caddyjson.HostTable) {
	m := u.memo
	if m == nil {
		return
	}
	hosts := m.tables[out.Table]
	if hosts == nil {
		hosts = map[string]*memoTable{}
		m.tables[out.Table] = hosts
	}
	at := len(u.routes)
	u.routes = append(u.routes, h.Routes...)
	hosts[h.Hostname] = &memoTable{routes: u.routes[at:len(u.routes):len(u.routes)], out: out, pass: m.pass}
}

// done drops the host tables this emit did not use from the Memo.
func (u *memoUse) done() {
	m := u.memo
	if m == nil {
		return
	}
	for table, hosts := range m.tables {
		for host, t := range hosts {
			if t.pass != m.pass {
				delete(hosts, host)
			}
		}
		if len(hosts) == 0 {
			delete(m.tables, table)
		}
	}
}

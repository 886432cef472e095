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
	opts   Options
	tables map[tableKey]*memoTable
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo { return &Memo{} }

// tableKey identifies a host group: its route table and hostname.
type tableKey struct{ table, host string }

// memoTable is a rendered host table and the IR routes it was rendered from; holding
// them keeps their matches and actions, and so their addresses, from being reused.
type memoTable struct {
	routes []ir.Route
	out    caddyjson.HostTable
}

// memoUse is one emit's view of its Memo: the host groups it takes from it (hits), and
// the host tables it keeps for the next emit (next). Without a Memo both are nil.
type memoUse struct {
	memo *Memo
	opts Options
	prev map[tableKey]*memoTable
	hits map[*ir.HostGroup]*memoTable
	next map[tableKey]*memoTable
}

// useMemo returns the view of o.Memo for an emit with options o (with their defaults)
// and the backend client certificates certs.
func useMemo(o Options, certs map[string]*ir.Certificate) memoUse {
	m := o.Memo
	if m == nil {
		return memoUse{}
	}
	o.Memo = nil
	u := memoUse{memo: m, opts: o, hits: map[*ir.HostGroup]*memoTable{}, next: make(map[tableKey]*memoTable, len(m.tables))}
	if len(certs) == 0 && reflect.DeepEqual(m.opts, o) {
		u.prev = m.tables
	}
	return u
}

// take reports whether the host group h of table is the one the Memo holds, and
// remembers it if so.
func (u *memoUse) take(table string, h *ir.HostGroup) bool {
	prev := u.prev[tableKey{table, h.Hostname}]
	if prev == nil || !slices.Equal(prev.routes, h.Routes) {
		return false
	}
	u.hits[h] = prev
	return true
}

// hit returns the host table taken for h, or nil.
func (u *memoUse) hit(h *ir.HostGroup) *memoTable { return u.hits[h] }

// keep keeps the host table t, rendered from h, for the next emit.
func (u *memoUse) keep(h *ir.HostGroup, t *memoTable) {
	if u.next != nil {
		u.next[tableKey{t.out.Table, h.Hostname}] = t
	}
}

// done hands what this emit kept to the Memo.
func (u *memoUse) done() {
	if u.memo != nil {
		u.memo.opts, u.memo.tables = u.opts, u.next
	}
}

package translator

import (
	"hash/maphash"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Memo keeps the checked rules of a Gateway's HTTPRoutes and GRPCRoutes from one of its
// translations to the next (Input.Memo), so that a change re-checks only the routes it
// touched: at 10,000 routes, checking every route's rules again is a large part of each
// translation. A route's checked rules are kept by its UID and generation, and only as
// long as nothing else they depend on changes (the Services and ReferenceGrants, by
// resourceVersion, and the cluster domain): any change there re-checks every route.
// Routes without a UID or generation, and Gateways whose routes' backends may be subject
// to BackendTLSPolicies, are always checked anew.
//
// The Output is the same with or without a Memo (TestMemoTranslatesAsWithout). A Memo
// belongs to one Gateway and is used by one translation at a time.
type Memo struct {
	seed maphash.Seed
	// inputs is the fingerprint of what checking read besides the routes; routes holds
	// the checked rules it gave.
	inputs uint64
	routes map[memoKey]*checkedRules
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo { return &Memo{seed: maphash.MakeSeed()} }

// memoKey identifies one version of a route's spec.
type memoKey struct {
	kind       *routeKind
	uid        types.UID
	generation int64
}

// memoUse is one translation's view of its Memo: the checked rules it may take (prev,
// read only, so helpers read it beside each other), and those it keeps for the next
// translation (next, written by the attaching goroutine only). Both are nil without a
// usable Memo.
type memoUse struct {
	memo       *Memo
	inputs     uint64
	prev, next map[memoKey]*checkedRules
}

// useMemo returns the view of in.Memo for a translation of in.
func useMemo(in *Input) memoUse {
	m := in.Memo
	if m == nil {
		return memoUse{}
	}
	fp, ok := m.fingerprint(in)
	if !ok {
		m.routes = nil
		return memoUse{}
	}
	u := memoUse{memo: m, inputs: fp, next: make(map[memoKey]*checkedRules, len(m.routes))}
	if fp == m.inputs {
		u.prev = m.routes
	}
	return u
}

// fingerprint hashes what checking HTTPRoutes and GRPCRoutes reads besides the routes,
// in any order (the cache lists objects in no particular one); ok is false when objects
// cannot be told apart by resourceVersion, or when BackendTLSPolicies are in play (their
// ancestor statuses are decided while routes are checked).
func (m *Memo) fingerprint(in *Input) (uint64, bool) {
	if len(in.BackendTLSPolicies) > 0 {
		return 0, false
	}
	var h maphash.Hash
	h.SetSeed(m.seed)
	sum := maphash.String(m.seed, in.ClusterDomain)
	add := func(o *metav1.ObjectMeta, kind byte) bool {
		h.Reset()
		h.WriteByte(kind)
		h.WriteString(string(o.UID))
		h.WriteByte(0)
		h.WriteString(o.ResourceVersion)
		sum += h.Sum64()
		return o.ResourceVersion != ""
	}
	for i := range in.Services {
		if !add(&in.Services[i].ObjectMeta, 's') {
			return 0, false
		}
	}
	for i := range in.ReferenceGrants {
		if !add(&in.ReferenceGrants[i].ObjectMeta, 'g') {
			return 0, false
		}
	}
	return sum, true
}

// key returns the memo key of r; ok is false when r's checked rules are not kept.
func (u *memoUse) key(r *pendingRoute) (memoKey, bool) {
	if u.next == nil || !r.kind.memoized || r.meta.UID == "" || r.meta.Generation == 0 {
		return memoKey{}, false
	}
	return memoKey{kind: r.kind, uid: r.meta.UID, generation: r.meta.Generation}, true
}

// lookup returns the kept checked rules of r, or nil.
func (u *memoUse) lookup(r *pendingRoute) *checkedRules {
	if k, ok := u.key(r); ok && u.prev != nil {
		return u.prev[k]
	}
	return nil
}

// keep keeps the checked rules of r for the next translation.
func (u *memoUse) keep(r *pendingRoute) {
	if k, ok := u.key(r); ok {
		u.next[k] = r.checked
	}
}

// done hands what this translation kept to the Memo.
func (u *memoUse) done() {
	if u.memo != nil {
		u.memo.inputs, u.memo.routes = u.inputs, u.next
	}
}

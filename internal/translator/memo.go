package translator

import (
	"hash/maphash"
	"slices"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Memo keeps the checked rules of a Gateway's HTTPRoutes and GRPCRoutes from one of its
// translations to the next (Input.Memo), so that a change re-checks only the routes it
// touched: at 10,000 routes, checking every route's rules again is a large part of each
// translation. A route's checked rules are kept by its UID and generation, with the
// UID and resourceVersion of each Service checking looked up for it (or its absence):
// they are used while those are the same, so that a new Service re-checks only the
// routes that name it. A change to any ReferenceGrant, or to the cluster domain,
// re-checks every route. Routes without a UID or generation, and Gateways whose routes'
// backends may be subject to BackendTLSPolicies, are always checked anew.
//
// The Output is the same with or without a Memo (TestMemoTranslatesAsWithout). A Memo
// belongs to one Gateway and is used by one translation at a time.
type Memo struct {
	seed maphash.Seed
	// inputs is the fingerprint of what checking read besides the routes; routes holds
	// the checked rules it gave, each marked with the last translation that used it.
	inputs uint64
	routes map[memoKey]*memoEntry
	// pass numbers the translations.
	pass uint32
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo { return &Memo{seed: maphash.MakeSeed()} }

// memoKey identifies one version of a route's spec.
type memoKey struct {
	kind       *routeKind
	uid        types.UID
	generation int64
}

// memoEntry is the checked rules of one version of a route.
type memoEntry struct {
	checked *checkedRules
	// services are the Services checking looked up, as they were.
	services []serviceRead
	// pass is the last translation that used it (Memo.pass); helpers mark the entries
	// of the routes they check.
	pass atomic.Uint32
}

// memoUse is one translation's view of its Memo, nil without a usable one. The Memo's
// entries are read, never added or removed, while routes are checked (so helpers read
// them beside each other); the checked rules of routes it did not hold are added
// (added, by the attaching goroutine) when the translation is done.
type memoUse struct {
	memo  *Memo
	added []memoAdded
}

// memoAdded is a route's checked rules to add to the Memo.
type memoAdded struct {
	key      memoKey
	checked  *checkedRules
	services []serviceRead
}

// serviceRead is a Service that checking a route looked up, as it was: its UID and
// resourceVersion, both empty when it did not exist.
type serviceRead struct {
	key     nsName
	uid     types.UID
	version string
}

// readService returns the Service key names, as it is now.
func (t *translation) readService(key nsName) serviceRead {
	if s := t.services[key]; s != nil {
		return serviceRead{key: key, uid: s.UID, version: s.ResourceVersion}
	}
	return serviceRead{key: key}
}

// noteService records that checking the current route looked up the Service ns/name
// (translation.reads), when a Memo wants to know.
func (t *translation) noteService(ns, name string) {
	if t.reads != nil {
		*t.reads = append(*t.reads, nsName{ns, name})
	}
}

// reading returns where noteService records the Services checking r looks up, nil
// when the Memo does not keep r's checked rules.
func (u *memoUse) reading(r *pendingRoute) *[]nsName {
	if _, ok := u.key(r); !ok {
		return nil
	}
	return new([]nsName)
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
	if fp != m.inputs || m.routes == nil {
		m.inputs, m.routes = fp, map[memoKey]*memoEntry{}
	}
	m.pass++
	return memoUse{memo: m}
}

// fingerprint hashes what checking HTTPRoutes and GRPCRoutes reads besides the routes
// and the Services (which each entry checks for itself), in any order (the cache lists
// objects in no particular one); ok is false when objects cannot be told apart by
// resourceVersion, or when BackendTLSPolicies are in play (their ancestor statuses are
// decided while routes are checked).
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
		if in.Services[i].ResourceVersion == "" {
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
	if u.memo == nil || !r.kind.memoized || r.meta.UID == "" || r.meta.Generation == 0 {
		return memoKey{}, false
	}
	return memoKey{kind: r.kind, uid: r.meta.UID, generation: r.meta.Generation}, true
}

// lookup returns the kept checked rules of r, marked as used, or nil when there are
// none or a Service they looked up changed.
func (t *translation) lookup(r *pendingRoute) *checkedRules {
	u := &t.memo
	k, ok := u.key(r)
	if !ok {
		return nil
	}
	e := u.memo.routes[k]
	if e == nil {
		return nil
	}
	for _, s := range e.services {
		if t.readService(s.key) != s {
			return nil
		}
	}
	e.pass.Store(u.memo.pass)
	return e.checked
}

// keep keeps the checked rules of r, and the Services looked up for them, for
// the next translation, unless they came from the Memo.
func (t *translation) keep(r *pendingRoute) {
	u := &t.memo
	k, ok := u.key(r)
	if !ok || r.kept {
		return
	}
	a := memoAdded{key: k, checked: r.checked, services: make([]serviceRead, 0, len(r.checked.reads))}
	for _, key := range r.checked.reads {
		if !slices.ContainsFunc(a.services, func(s serviceRead) bool { return s.key == key }) {
			a.services = append(a.services, t.readService(key))
		}
	}
	u.added = append(u.added, a)
}

// done adds what this translation checked to the Memo, and drops the entries it did
// not use.
func (u *memoUse) done() {
	m := u.memo
	if m == nil {
		return
	}
	for _, a := range u.added {
		e := &memoEntry{checked: a.checked, services: a.services}
		e.pass.Store(m.pass)
		m.routes[a.key] = e
	}
	for k, e := range m.routes {
		if e.pass.Load() != m.pass {
			delete(m.routes, k)
		}
	}
}

package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// statusMemo remembers, per Gateway, its status writes last made in a row, each on the
// Gateway the one before answered with: the resourceVersions they replaced and the
// Gateway the API server answered the last with. A cache still holding a replaced version
// has not seen the last write yet; a reconcile deciding on it would write a status
// guarded by a stale resourceVersion, have it refused as a conflict and read the Gateway
// again: three requests instead of one, on every reconcile of a burst of route changes,
// as each starts right after the previous one's write.
type statusMemo struct {
	mu sync.Mutex
	m  map[types.NamespacedName]statusWrites
}

type statusWrites struct {
	replaced map[string]bool
	written  *gwapiv1.Gateway
}

// latest replaces gw, read from the cache, with the Gateway of the last status write when
// the cache still holds a version the writes replaced. Otherwise the cache has caught up
// or someone else wrote, and the writes are forgotten.
func (m *statusMemo) latest(gw *gwapiv1.Gateway) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	w, ok := m.m[key]
	if !ok {
		return
	}
	if !w.replaced[gw.ResourceVersion] || gw.UID != w.written.UID {
		delete(m.m, key)
		return
	}
	w.written.DeepCopyInto(gw)
}

// record keeps a status write that replaced the version replaced with written.
func (m *statusMemo) record(replaced string, written *gwapiv1.Gateway) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[types.NamespacedName]statusWrites{}
	}
	key := types.NamespacedName{Namespace: written.Namespace, Name: written.Name}
	w, ok := m.m[key]
	if !ok || w.written.ResourceVersion != replaced || w.written.UID != written.UID {
		w = statusWrites{replaced: map[string]bool{}}
	}
	w.replaced[replaced] = true
	w.written = written.DeepCopy()
	m.m[key] = w
}

// forget drops the writes of gw, a Gateway that is gone.
func (m *statusMemo) forget(gw types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, gw)
}

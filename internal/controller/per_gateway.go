package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// perGateway holds one value of type E per Gateway, safe for concurrent use: the
// entries of the memos a reconcile consults.
type perGateway[E any] struct {
	mu sync.Mutex
	m  map[types.NamespacedName]E
}

// load returns the entry of gw.
func (p *perGateway[E]) load(gw types.NamespacedName) (E, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[gw]
	return e, ok
}

// store makes e the entry of gw.
func (p *perGateway[E]) store(gw types.NamespacedName, e E) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[types.NamespacedName]E{}
	}
	p.m[gw] = e
}

// forget drops the entry of gw.
func (p *perGateway[E]) forget(gw types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, gw)
}

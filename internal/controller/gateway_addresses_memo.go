package controller

import (
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// addressRefusals remembers, per Gateway, the API server's refusal of its Service's
// address request and what it answered: the rendered Service (which holds the request)
// and the resourceVersion of the live one (none when it does not exist). While both are
// the same, so is the answer: a standing refusal is reported again without a dry-run
// create, IPAddress reads from the API server or an apply bound to fail. A changed request
// or Service, by anyone, asks the API server again, and so does the first reconcile after
// refusalTTL: what the memo cannot see (another Service releasing the address, a changed
// Service CIDR or admission policy) is noticed within it.
type addressRefusals struct {
	mu sync.Mutex
	m  map[types.NamespacedName]addressRefusalState
}

type addressRefusalState struct {
	asked, liveVersion, refusal string
	at                          time.Time
}

// refusalTTL is how long a recorded refusal is reported without asking again.
const refusalTTL = time.Minute

// standing returns the refusal recorded for gw when it answered the rendered Service
// asked (serviceHash) with the live Service at liveVersion.
func (a *addressRefusals) standing(gw types.NamespacedName, asked, liveVersion string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.m[gw]
	if !ok || s.asked != asked || s.liveVersion != liveVersion || time.Since(s.at) > refusalTTL {
		return "", false
	}
	return s.refusal, true
}

// record keeps the API server's answer to the rendered Service asked with the live
// Service at liveVersion; an empty refusal (the request was taken) is forgotten.
func (a *addressRefusals) record(gw types.NamespacedName, asked, liveVersion, refusal string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if refusal == "" {
		delete(a.m, gw)
		return
	}
	if a.m == nil {
		a.m = map[types.NamespacedName]addressRefusalState{}
	}
	a.m[gw] = addressRefusalState{asked: asked, liveVersion: liveVersion, refusal: refusal, at: time.Now()}
}

// forget drops what was recorded for gw: a Gateway that is gone or requests no address.
func (a *addressRefusals) forget(gw types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, gw)
}

// serviceHash hashes the rendered Service: its address request and everything else the
// API server may have refused with it.
func serviceHash(svc *corev1.Service) (string, error) {
	hash, err := hashJSON(svc)
	if err != nil {
		return "", fmt.Errorf("hashing Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return hash, nil
}

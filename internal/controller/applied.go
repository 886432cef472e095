package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// appliedMemo remembers, per object, the desired state last applied and the
// resourceVersion the API server answered with. While the object still has that
// resourceVersion nobody has changed it since, so applying the same desired state again
// would change nothing and is skipped. Any change to the object, by anyone, gives it a new
// resourceVersion and the next reconcile applies again, which keeps drift correction.
// Objects are grouped by the Gateway they belong to, and forgotten with it.
type appliedMemo struct {
	mu sync.Mutex
	m  map[types.NamespacedName]map[string]appliedState
}

type appliedState struct{ hash, resourceVersion string }

// unchanged reports whether hash was applied to the object key of gw and the object's
// live resourceVersion is still the one that apply produced.
func (a *appliedMemo) unchanged(gw types.NamespacedName, key, hash, liveVersion string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.m[gw][key]
	return ok && liveVersion != "" && s.hash == hash && s.resourceVersion == liveVersion
}

// record keeps the outcome of applying hash to the object key of gw; a failed apply is
// forgotten.
func (a *appliedMemo) record(gw types.NamespacedName, key, hash, resourceVersion string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || resourceVersion == "" {
		delete(a.m[gw], key)
		return
	}
	if a.m == nil {
		a.m = map[types.NamespacedName]map[string]appliedState{}
	}
	if a.m[gw] == nil {
		a.m[gw] = map[string]appliedState{}
	}
	a.m[gw][key] = appliedState{hash: hash, resourceVersion: resourceVersion}
}

// forget drops what was applied for gw, a Gateway that is gone.
func (a *appliedMemo) forget(gw types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, gw)
}

// appliedKey identifies the object u describes and hashes its desired state.
func appliedKey(u *unstructured.Unstructured) (key, hash string, err error) {
	hash, err = hashJSON(u.Object)
	if err != nil {
		return "", "", err
	}
	return u.GroupVersionKind().String() + "/" + u.GetNamespace() + "/" + u.GetName(), hash, nil
}

// hashJSON is the hex SHA-256 of v's JSON encoding.
func hashJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// liveVersion is the resourceVersion of the object u describes: from the cache for the
// kinds the operator watches, from the API server for the others (cert-manager's); ""
// when it cannot be read.
func (r *GatewayReconciler) liveVersion(ctx context.Context, u *unstructured.Unstructured) string {
	var live client.Object
	if o, err := r.Scheme().New(u.GroupVersionKind()); err == nil {
		live, _ = o.(client.Object)
	}
	var reader client.Reader = r.Client
	if live == nil {
		// cert-manager's kinds: their metadata, from the cache of the operator's
		// namespace, the only place the operator may read them.
		l := &metav1.PartialObjectMetadata{}
		l.SetGroupVersionKind(u.GroupVersionKind())
		live = l
		if r.certWatch.cache != nil {
			reader = r.certWatch.cache
		}
	}
	// Only read: no copy of the cached object (a storage Secret holds up to 1 MiB).
	if err := reader.Get(ctx, client.ObjectKeyFromObject(u), live, client.UnsafeDisableDeepCopy); err != nil {
		return ""
	}
	return appliedVersion(live)
}

// appliedVersion is what tells whether an object changed since the operator applied it:
// its resourceVersion, or, for a storage Secret or Lease of automatic certificates, which
// the pods write all the time and the operator applies only the metadata of, its UID and
// that metadata.
func appliedVersion(o metav1.Object) string {
	if !isStorage(o) {
		return o.GetResourceVersion()
	}
	hash, err := hashJSON([]any{o.GetUID(), o.GetLabels(), o.GetAnnotations(), o.GetOwnerReferences()})
	if err != nil {
		return ""
	}
	return "metadata:" + hash
}

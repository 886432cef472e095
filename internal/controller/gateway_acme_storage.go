package controller

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/infra"
)

// certificateStates reads, from the cache, what the Gateway's Caddy pods recorded of its
// automatic certificates in its storage Secrets (acmestore.States). A storage Secret
// that is missing, or not the Gateway's, records nothing. The Secrets are not copied:
// their data is only read.
func (r *GatewayReconciler) certificateStates(ctx context.Context, gw *gwapiv1.Gateway) (map[string]acmestore.CertificateState, error) {
	shards := make([]map[string][]byte, acmestore.Shards)
	for i := range shards {
		var s corev1.Secret
		key := client.ObjectKey{Namespace: gw.Namespace, Name: acmestore.SecretName(gw.Name, i)}
		if err := r.Get(ctx, key, &s, client.UnsafeDisableDeepCopy); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading the certificate storage Secret %s: %w", key, err)
		}
		if metav1.IsControlledBy(&s, gw) {
			shards[i] = s.Data
		}
	}
	return acmestore.States(shards...), nil
}

// isStorage reports whether o is a storage Secret or Lease of a Gateway's automatic
// certificates.
func isStorage(o metav1.Object) bool {
	l := o.GetLabels()
	return l[infra.LabelComponent] == infra.ACMEStorageComponent && l[infra.LabelManagedBy] == infra.ManagedByValue
}

// storageChanged passes every event of other objects, and of a storage Secret or Lease
// only those a Gateway must act on: its creation and deletion (a deleted one is created
// again), a change of its metadata (drift of what the operator applies) and, for a
// Secret, a change of the certificate states recorded in it (states decodes them: the
// listener conditions report them). The pods write certificates, challenge tokens and
// locks all the time; none of that changes the Gateway's configuration or status, and
// none of it makes the Gateway reconcile.
func storageChanged(states func(...map[string][]byte) map[string]acmestore.CertificateState) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld, e.ObjectNew
		if !isStorage(o) && !isStorage(n) {
			return true
		}
		if !maps.Equal(o.GetLabels(), n.GetLabels()) || !maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
			!equality.Semantic.DeepEqual(o.GetOwnerReferences(), n.GetOwnerReferences()) {
			return true
		}
		os, ok1 := o.(*corev1.Secret)
		ns, ok2 := n.(*corev1.Secret)
		if !ok1 || !ok2 {
			return false
		}
		return os.Type != ns.Type || !statesEqual(states(os.Data), states(ns.Data))
	}}
}

// statesEqual compares two sets of certificate states.
func statesEqual(a, b map[string]acmestore.CertificateState) bool {
	return maps.EqualFunc(a, b, func(x, y acmestore.CertificateState) bool {
		return x.Name == y.Name && x.Phase == y.Phase && x.Error == y.Error &&
			x.NotAfter.Equal(y.NotAfter) && x.Updated.Equal(y.Updated)
	})
}

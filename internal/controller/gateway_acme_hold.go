package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
)

// ordersHeld reports whether the ACME orders of the names obtained ahead are held
// (emit.Options.HoldACMEOrders): no Caddy pod of the Gateway is Ready, that is no pod is
// an endpoint of its Service that the CA's HTTP-01 or TLS-ALPN-01 validation can reach.
// An order placed before would fail its validation (counted against the CA's limits) or
// wait for the CA's retry. Pods become Ready once their first config is loaded, and the
// pod watch reconciles the Gateway then: the config without the hold is pushed. This
// costs one extra config load at a Gateway's birth. A Gateway that has had a Ready pod
// is never held again while the operator runs: pods that all turn unready for a while
// keep their config, and a new pod then orders what the shared storage lacks.
func (r *GatewayReconciler) ordersHeld(ctx context.Context, gw *gwapiv1.Gateway) (bool, error) {
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	if uid, ok := r.servedOnce.Load(key); ok && uid == gw.UID {
		return false, nil
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(gw.Namespace), client.MatchingLabels(infra.SelectorLabels(gw.Name))); err != nil {
		return false, fmt.Errorf("listing the Caddy pods of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	for i := range pods.Items {
		if podReady(&pods.Items[i]) {
			r.servedOnce.Store(key, gw.UID)
			return false, nil
		}
	}
	return true, nil
}

// podReady reports whether p is not being deleted and its Ready condition is True.
func podReady(p *corev1.Pod) bool {
	if !p.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

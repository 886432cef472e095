package controller

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// releaseGateway undoes what the operator did for a Gateway whose class belongs to another
// controller, which it moved to (spec.gatewayClassName is the only way: a class's
// controllerName is immutable). Its fleet, admin certificates and cert-manager objects are
// deleted, Caddy pods included, so they do not go on serving the last configuration; the
// status this operator wrote is removed; and the routes' entries of ours for it are
// dropped. The status is touched only while something of ours is left (a fleet object or
// our own AdminCertificates condition): once released, the Gateway's status is the other
// controller's alone.
func (r *GatewayReconciler) releaseGateway(ctx context.Context, gw *gwapiv1.Gateway) error {
	key := client.ObjectKeyFromObject(gw)
	r.Pusher.Forget(key.String())
	r.applied.forget(key)
	if err := r.writeRouteStatuses(ctx, gw, nil); err != nil {
		return err
	}
	if err := r.writeGRPCRouteStatuses(ctx, gw, nil); err != nil {
		return err
	}
	objs, err := r.releasedObjects(ctx, gw)
	if err != nil {
		return err
	}
	if len(objs) == 0 && meta.FindStatusCondition(gw.Status.Conditions, status.ConditionAdminCertificates) == nil {
		return nil
	}
	// The status first: should a deletion fail, the fleet left behind brings the next
	// reconcile back here.
	if err := r.clearStatus(ctx, gw); err != nil {
		return err
	}
	for _, o := range objs {
		err := r.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %T %s/%s of Gateway %s: %w", o, o.GetNamespace(), o.GetName(), key, err)
		}
	}
	if len(objs) > 0 {
		r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, "Released", "Release",
			"Deleted %d objects of the Caddy fleet: class %s belongs to another controller", len(objs), gw.Spec.GatewayClassName)
	}
	return nil
}

// releasedObjects lists what the operator created for gw: the fleet objects and admin
// certificate Secrets it controls, the Secrets cert-manager issued for its Certificates
// (they carry the fleet's labels and the admin certificates' names) and the cert-manager
// objects it owns.
func (r *GatewayReconciler) releasedObjects(ctx context.Context, gw *gwapiv1.Gateway) ([]client.Object, error) {
	objs, err := r.fleetObjects(ctx, gw, append(ownedLists(), &corev1.SecretList{}), func(o client.Object) bool {
		if _, ok := o.(*corev1.Secret); ok && slices.Contains(adminSecretNames(gw.Name), o.GetName()) {
			return true
		}
		return metav1.IsControlledBy(o, gw)
	})
	if err != nil {
		return nil, err
	}
	for _, kind := range []string{certs.KindIssuer, certs.KindCertificate} {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(schema.GroupVersionKind{Group: certs.CertManagerGroup, Version: "v1", Kind: kind + "List"})
		// Read from the API server: the cache watches these kinds only once a Gateway of
		// ours has found cert-manager installed.
		err := r.APIReader.List(ctx, list, client.InNamespace(gw.Namespace), client.MatchingLabels(fleetLabels(gw)))
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			continue // cert-manager is not installed
		}
		if err != nil {
			return nil, fmt.Errorf("listing cert-manager %ss: %w", kind, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if slices.ContainsFunc(o.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == gw.UID }) {
				o.SetGroupVersionKind(schema.GroupVersionKind{Group: certs.CertManagerGroup, Version: "v1", Kind: kind})
				objs = append(objs, o)
			}
		}
	}
	return objs, nil
}

// adminSecretNames are the names of the admin certificate Secrets of the Gateway named gw.
func adminSecretNames(gw string) []string {
	n := certs.NamesFor(gw)
	return []string{n.CA, n.Server, n.Client}
}

// fleetObjects lists the objects of the kinds of lists that carry gw's fleet labels and
// that keep accepts.
func (r *GatewayReconciler) fleetObjects(ctx context.Context, gw *gwapiv1.Gateway, lists []client.ObjectList, keep func(client.Object) bool) ([]client.Object, error) {
	sel := client.MatchingLabels{infra.LabelManagedBy: infra.ManagedByValue, infra.LabelGatewayName: infra.SelectorLabels(gw.Name)[infra.LabelGatewayName]}
	var out []client.Object
	for _, list := range lists {
		if err := r.List(ctx, list, client.InNamespace(gw.Namespace), sel); err != nil {
			return nil, fmt.Errorf("listing %T: %w", list, err)
		}
		items, err := apiMetaItems(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			if keep(o) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// clearStatus removes from gw's status what releasedStatus says is this operator's, with
// the same optimistic lock as writeStatus.
func (r *GatewayReconciler) clearStatus(ctx context.Context, gw *gwapiv1.Gateway) error {
	next := releasedStatus(&gw.Status, gw.Generation)
	if equality.Semantic.DeepEqual(&gw.Status, next) {
		return nil
	}
	patch := client.MergeFromWithOptions(gw.DeepCopy(), client.MergeFromWithOptimisticLock{})
	gw.Status = *next
	if err := r.Status().Patch(ctx, gw, patch); err != nil {
		return fmt.Errorf("clearing the status of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	return nil
}

// releasedStatus returns st without what this operator wrote while the Gateway was of its
// class. The move to another class changed the spec, so the conditions written before it
// have an older observedGeneration; the other controller's carry the current one, and
// are kept. Our AdminCertificates condition goes whatever its generation. The listener
// statuses and addresses go when no listener condition is of the current generation:
// the other controller, which replaces them whole, has not written them yet.
func releasedStatus(st *gwapiv1.GatewayStatus, generation int64) *gwapiv1.GatewayStatus {
	next := st.DeepCopy()
	ours := append([]string{string(gwapiv1.GatewayConditionAccepted), string(gwapiv1.GatewayConditionProgrammed)},
		translator.GatewayConditionTypes...)
	next.Conditions = slices.DeleteFunc(next.Conditions, func(c metav1.Condition) bool {
		return c.Type == status.ConditionAdminCertificates || (slices.Contains(ours, c.Type) && c.ObservedGeneration < generation)
	})
	current := slices.ContainsFunc(next.Listeners, func(l gwapiv1.ListenerStatus) bool {
		return slices.ContainsFunc(l.Conditions, func(c metav1.Condition) bool { return c.ObservedGeneration >= generation })
	})
	if !current {
		next.Listeners, next.Addresses = nil, nil
	}
	return next
}

package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// releaseGateway undoes what the operator did for a Gateway whose class belongs to another
// controller, which it moved to (spec.gatewayClassName is the only way: a class's
// controllerName is immutable). Its fleet, the server Secret copy and (forgetGateway) its
// admin objects in the operator's namespace are deleted, Caddy pods included, so they do not go on serving the last configuration; the
// status this operator wrote is removed; and the routes' entries of ours for it are
// dropped. The fleet objects this operator created (AnnotationControllerName: not those
// another instance of it, with another controllerName, has applied since) are the mark
// of a Gateway still to release: without them there is nothing to do (the Gateway's
// status is the other controller's alone and is left untouched), which keeps the Gateways
// of other controllers' classes at one listing per reconcile. So they go last, after the
// status.
func (r *GatewayReconciler) releaseGateway(ctx context.Context, gw *gwapiv1.Gateway) error {
	fleet, err := r.fleetObjects(ctx, gw, append(ownedLists(), &corev1.SecretList{}), func(o client.Object) bool {
		return metav1.IsControlledBy(o, gw) && createdBy(o, r.ControllerName)
	})
	if err != nil || len(fleet) == 0 {
		return err
	}
	if err := r.forgetGateway(ctx, client.ObjectKeyFromObject(gw)); err != nil {
		return err
	}
	if err := r.clearStatus(ctx, gw); err != nil {
		return err
	}
	if err := r.deleteAll(ctx, gw, fleet); err != nil {
		return err
	}
	r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, "Released", "Release",
		"Deleted the Caddy fleet: class %s belongs to another controller", gw.Spec.GatewayClassName)
	return nil
}

// deleteAll deletes objs, their dependents (a Deployment's pods) in the background.
func (r *GatewayReconciler) deleteAll(ctx context.Context, gw *gwapiv1.Gateway, objs []client.Object) error {
	for _, o := range objs {
		err := r.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %T %s/%s of Gateway %s/%s: %w", o, o.GetNamespace(), o.GetName(), gw.Namespace, gw.Name, err)
		}
	}
	return nil
}

// AnnotationControllerName names, on every object the operator creates for a Gateway, the
// controllerName of the operator that created it, so that an operator releasing a Gateway
// moved to another class leaves alone what another instance of it (another
// controllerName) has taken over.
const AnnotationControllerName = "caddygateway.io/controller-name"

// withControllerName returns annotations (a copy) with AnnotationControllerName set to
// name.
func withControllerName(annotations map[string]string, name gwapiv1.GatewayController) map[string]string {
	out := make(map[string]string, len(annotations)+1)
	maps.Copy(out, annotations)
	out[AnnotationControllerName] = string(name)
	return out
}

// createdBy reports whether obj was created by the operator of controllerName: objects
// without the annotation were created before it existed, by the only operator there was.
func createdBy(obj client.Object, name gwapiv1.GatewayController) bool {
	v, ok := obj.GetAnnotations()[AnnotationControllerName]
	return !ok || v == string(name)
}

// fleetObjects lists the objects of the kinds of lists that carry gw's fleet labels and
// that keep accepts.
func (r *GatewayReconciler) fleetObjects(ctx context.Context, gw *gwapiv1.Gateway, lists []client.ObjectList, keep func(client.Object) bool) ([]client.Object, error) {
	sel := client.MatchingLabels(fleetLabels(gw))
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
// are kept (another instance of this operator writes AdminCertificates too). The listener
// statuses and addresses go when no listener condition is of the current generation:
// the other controller, which replaces them whole, has not written them yet.
func releasedStatus(st *gwapiv1.GatewayStatus, generation int64) *gwapiv1.GatewayStatus {
	next := st.DeepCopy()
	ours := append([]string{string(gwapiv1.GatewayConditionAccepted), string(gwapiv1.GatewayConditionProgrammed),
		status.ConditionAdminCertificates}, translator.GatewayConditionTypes...)
	next.Conditions = slices.DeleteFunc(next.Conditions, func(c metav1.Condition) bool {
		return slices.Contains(ours, c.Type) && c.ObservedGeneration < generation
	})
	current := slices.ContainsFunc(next.Listeners, func(l gwapiv1.ListenerStatus) bool {
		return slices.ContainsFunc(l.Conditions, func(c metav1.Condition) bool { return c.ObservedGeneration >= generation })
	})
	if !current {
		next.Listeners, next.Addresses = nil, nil
	}
	return next
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// FieldOwner is the server-side apply field manager of everything the operator applies.
const FieldOwner = "caddy-gateway-operator"

// ownedLists are the kinds a Gateway's fleet consists of; objects of these kinds that carry
// the fleet's labels but are no longer rendered are deleted. Secrets are not among them:
// the storage Secrets of automatic certificates stay while the Gateway exists, even when
// it no longer uses them (its ACME accounts and certificates are worth keeping), while
// the storage's Leases, Role and RoleBinding go.
func ownedLists() []client.ObjectList {
	return []client.ObjectList{
		&corev1.ServiceAccountList{}, &corev1.ConfigMapList{}, &appsv1.DeploymentList{}, &appsv1.DaemonSetList{},
		&corev1.ServiceList{}, &networkingv1.NetworkPolicyList{}, &autoscalingv2.HorizontalPodAutoscalerList{},
		&policyv1.PodDisruptionBudgetList{}, &coordinationv1.LeaseList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{},
	}
}

// apply server-side applies obj as FieldOwner, so fields others set on it survive. An
// immutable field that changed (a Service's loadBalancerClass, a selector) is handled by
// deleting and recreating the object, with an Event on the Gateway; never a Secret's,
// whose data (the certificates a storage Secret holds) would go with it.
func (r *GatewayReconciler) apply(ctx context.Context, gw *gwapiv1.Gateway, obj client.Object) error {
	u, err := toApplyUnstructured(obj, r.Scheme())
	if err != nil {
		return err
	}
	u.SetAnnotations(withControllerName(u.GetAnnotations(), r.ControllerName))
	key, hash, err := appliedKey(u)
	if err != nil {
		return err
	}
	gwKey := client.ObjectKeyFromObject(gw)
	if r.applied.unchanged(gwKey, key, hash, r.liveVersion(ctx, u)) {
		return nil
	}
	defer func() { r.applied.record(gwKey, key, hash, appliedVersion(u), err) }()
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership)
	if err == nil || !isImmutableFieldChange(err) || u.GetKind() == "Secret" {
		return wrapApply(u, err)
	}
	r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, "Recreating", "Apply",
		"Recreating %s %s: an immutable field changed", u.GetKind(), u.GetName())
	// Background, not Foreground: the object must be gone before the apply below, and a
	// foreground deletion keeps it (terminating) until the garbage collector has removed
	// its dependents (a Service's EndpointSlices, a Deployment's ReplicaSets). Those go
	// in the background, while the new object already serves.
	propagation := metav1.DeletePropagationBackground
	if err := r.Delete(ctx, u.DeepCopy(), client.PropagationPolicy(propagation)); client.IgnoreNotFound(err) != nil {
		return wrapApply(u, err)
	}
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership)
	return wrapApply(u, err)
}

// immutableMessages are the messages of the API server's validation errors for fields
// that cannot change after creation: the generic one (a Deployment's selector) and the
// Service's own (loadBalancerClass, clusterIP).
var immutableMessages = []string{validation.FieldImmutableErrorMsg, "may not change once set"}

// isImmutableFieldChange reports whether err is the API server refusing an update because
// it changes an immutable field.
func isImmutableFieldChange(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		for _, m := range immutableMessages {
			if strings.Contains(c.Message, m) {
				return true
			}
		}
	}
	return false
}

func wrapApply(u *unstructured.Unstructured, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
}

// toApplyUnstructured turns a typed object into an apply configuration: apiVersion and
// kind set, status and server-populated metadata dropped.
func toApplyUnstructured(obj client.Object, scheme *runtime.Scheme) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return u, nil
}

// prune deletes the fleet objects of gw that are no longer desired.
func (r *GatewayReconciler) prune(ctx context.Context, gw *gwapiv1.Gateway, desired []client.Object) error {
	keep := map[string]bool{}
	for _, o := range desired {
		gvk, err := apiutil.GVKForObject(o, r.Scheme())
		if err != nil {
			return err
		}
		keep[gvk.Kind+"/"+o.GetName()] = true
	}
	var gvkErr error
	objs, err := r.fleetObjects(ctx, gw, ownedLists(), func(o client.Object) bool {
		gvk, err := apiutil.GVKForObject(o, r.Scheme())
		if err != nil {
			gvkErr = errors.Join(gvkErr, err)
			return false
		}
		return !keep[gvk.Kind+"/"+o.GetName()] && metav1.IsControlledBy(o, gw)
	})
	if err != nil {
		return err
	}
	if gvkErr != nil {
		return gvkErr
	}
	return r.deleteAll(ctx, gw, objs)
}

func apiMetaItems(list client.ObjectList) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(client.Object))
	}
	return out, nil
}

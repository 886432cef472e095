package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// maxPolicyAncestors is the most entries status.ancestors of a policy may hold (the
// CRD's maxItems).
const maxPolicyAncestors = 16

// writePolicyStatuses writes this Gateway's ancestor entries, as the translation says,
// into the status of each BackendTLSPolicy, and removes its entry from the policies
// that still carry one it no longer wants (a policy retargeted, a route detached, the
// Gateway gone: statuses is nil then). Each policy is a read-modify-write of this
// operator's entry for gw only, written only when it changed; a write that loses to
// another is retried on the policy as the API server has it.
func (r *GatewayReconciler) writePolicyStatuses(ctx context.Context, gw *gwapiv1.Gateway, statuses []translator.PolicyStatus) error {
	if !r.backendTLS.policies {
		return nil
	}
	gwKey := client.ObjectKeyFromObject(gw)
	want := map[client.ObjectKey]*gwapiv1.PolicyAncestorStatus{}
	var keys []client.ObjectKey
	for i, s := range statuses {
		if s.Kind != backendTLSPolicyGVK.Kind {
			continue
		}
		key := client.ObjectKey{Namespace: s.Namespace, Name: s.Name}
		want[key] = &statuses[i].Ancestor
		keys = append(keys, key)
	}
	var carrying gwapiv1.BackendTLSPolicyList
	if err := r.List(ctx, &carrying, client.MatchingFields{indexPolicyAncestors: gwKey.String()}, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing the BackendTLSPolicies with an entry for Gateway %s: %w", gwKey, err)
	}
	for i := range carrying.Items {
		if key := client.ObjectKeyFromObject(&carrying.Items[i]); !containsKey(keys, key) {
			keys = append(keys, key)
		}
	}
	var errs []error
	for _, key := range keys {
		errs = append(errs, r.writePolicyStatus(ctx, gw, key, want[key]))
	}
	return errors.Join(errs...)
}

// writePolicyStatus puts desired (nil: none) as this operator's entry for gw into the
// status of the policy named key.
func (r *GatewayReconciler) writePolicyStatus(ctx context.Context, gw *gwapiv1.Gateway, key client.ObjectKey, desired *gwapiv1.PolicyAncestorStatus) error {
	var p gwapiv1.BackendTLSPolicy
	if err := r.Get(ctx, key, &p); err != nil {
		return client.IgnoreNotFound(err)
	}
	for attempt := 0; ; attempt++ {
		next, full := mergePolicyAncestors(p.Status.Ancestors, desired, ancestorMatch{
			gateway: client.ObjectKeyFromObject(gw), controller: r.ControllerName, policyNS: p.Namespace,
		})
		if full {
			r.Recorder.Eventf(gw, &p, corev1.EventTypeWarning, "PolicyAncestorsFull", "WritePolicyStatus",
				"BackendTLSPolicy %s lists %d ancestors already: no entry for this Gateway is added to its status", key, maxPolicyAncestors)
		}
		if equality.Semantic.DeepEqual(p.Status.Ancestors, next) {
			return nil
		}
		p.Status.Ancestors = next
		err := r.Status().Update(ctx, &p)
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == 2 {
			return fmt.Errorf("writing the status of BackendTLSPolicy %s: %w", key, err)
		}
		if err := r.APIReader.Get(ctx, key, &p); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
}

// ancestorMatch says which entries of a policy's status.ancestors are one Gateway's own.
type ancestorMatch struct {
	// gateway is the Gateway whose entry is written.
	gateway types.NamespacedName
	// controller is this operator's controllerName.
	controller gwapiv1.GatewayController
	// policyNS is the policy's namespace: an ancestorRef without namespace is in it.
	policyNS string
}

// owns reports whether a is this operator's entry for the Gateway.
func (m ancestorMatch) owns(a gwapiv1.PolicyAncestorStatus) bool {
	return a.ControllerName == m.controller && refersTo(a.AncestorRef, m.gateway, m.policyNS)
}

// mergePolicyAncestors returns current with this operator's entry for the Gateway replaced by
// desired (removed when desired is nil), leaving every other entry (other Gateways',
// other controllers') as it is and where it is. A new entry goes last; conditions that
// keep their status keep their LastTransitionTime. An entry of ours whose conditions
// observed a newer generation of the policy than desired's (a translation of a stale
// cache) is left alone: the newer translation writes it. full reports that desired was
// not added because the list holds maxPolicyAncestors entries already (the spec's rule:
// no further entries).
func mergePolicyAncestors(current []gwapiv1.PolicyAncestorStatus, desired *gwapiv1.PolicyAncestorStatus, m ancestorMatch) (next []gwapiv1.PolicyAncestorStatus, full bool) {
	// Never nil: status.ancestors is required.
	next = []gwapiv1.PolicyAncestorStatus{}
	found := false
	for _, a := range current {
		if !m.owns(a) {
			next = append(next, a)
			continue
		}
		if found {
			continue // a duplicate of our entry: dropped
		}
		found = true
		switch {
		case desired == nil: // no longer wanted: dropped
		case newerGeneration(a.Conditions, desired.Conditions):
			next = append(next, a)
		default:
			next = append(next, mergedAncestor(a.Conditions, desired))
		}
	}
	if !found && desired != nil {
		if len(next) >= maxPolicyAncestors {
			return next, true
		}
		next = append(next, mergedAncestor(nil, desired))
	}
	return next, false
}

// mergedAncestor is a copy of desired whose conditions keep the LastTransitionTime of
// prev's where their status did not change.
func mergedAncestor(prev []metav1.Condition, desired *gwapiv1.PolicyAncestorStatus) gwapiv1.PolicyAncestorStatus {
	out := *desired.DeepCopy()
	conds := []metav1.Condition{}
	for _, c := range prev {
		if meta.FindStatusCondition(desired.Conditions, c.Type) != nil {
			conds = append(conds, c)
		}
	}
	for _, c := range desired.Conditions {
		meta.SetStatusCondition(&conds, c)
	}
	out.Conditions = conds
	return out
}

// newerGeneration reports whether any of cur observed a later generation than every
// one of desired.
func newerGeneration(cur, desired []metav1.Condition) bool {
	var want int64
	for _, c := range desired {
		want = max(want, c.ObservedGeneration)
	}
	return slices.ContainsFunc(cur, func(c metav1.Condition) bool { return c.ObservedGeneration > want })
}

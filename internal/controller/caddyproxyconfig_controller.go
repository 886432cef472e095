package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/internal/status"
)

// CaddyProxyConfigReconciler writes the status of CaddyProxyConfigs: whether each is
// valid, and which of this operator's GatewayClasses and Gateways reference it.
type CaddyProxyConfigReconciler struct {
	client.Client
	// ControllerName is the spec.controllerName of the classes this operator owns.
	ControllerName gwapiv1.GatewayController
}

// +kubebuilder:rbac:groups=gateway.caddygateway.io,resources=caddyproxyconfigs/status,verbs=update

// Reconcile recomputes one CaddyProxyConfig's status.
func (r *CaddyProxyConfigReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var cpc v1alpha1.CaddyProxyConfig
	if err := r.Get(ctx, req.NamespacedName, &cpc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	validity := params.Validate(&cpc.Spec)
	ancestors, err := r.ancestors(ctx, req.NamespacedName, validity, cpc.Generation)
	if err != nil {
		return ctrl.Result{}, err
	}

	next := cpc.Status.DeepCopy()
	next.ObservedGeneration = cpc.Generation
	status.Merge(&next.Conditions, status.ParamsAccepted(cpc.Generation, validity))
	next.Ancestors = mergeAncestors(cpc.Status.Ancestors, ancestors)
	if equality.Semantic.DeepEqual(&cpc.Status, next) {
		return ctrl.Result{}, nil
	}
	cpc.Status = *next
	if err := r.Status().Update(ctx, &cpc); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// ancestors lists the classes and Gateways of this operator that reference key, sorted.
func (r *CaddyProxyConfigReconciler) ancestors(ctx context.Context, key types.NamespacedName, validity error, gen int64) ([]v1alpha1.AncestorStatus, error) {
	cond := status.AncestorAccepted(gen, validity)
	var out []v1alpha1.AncestorStatus
	var classes gwapiv1.GatewayClassList
	if err := r.List(ctx, &classes, client.MatchingFields{indexClassParams: key.String()}); err != nil {
		return nil, fmt.Errorf("listing GatewayClasses referencing %s: %w", key, err)
	}
	ours := map[string]bool{}
	var all gwapiv1.GatewayClassList
	if err := r.List(ctx, &all); err != nil {
		return nil, fmt.Errorf("listing GatewayClasses: %w", err)
	}
	for _, c := range all.Items {
		ours[c.Name] = c.Spec.ControllerName == r.ControllerName
	}
	for _, c := range classes.Items {
		if ours[c.Name] {
			out = append(out, v1alpha1.AncestorStatus{
				AncestorRef: v1alpha1.AncestorReference{Group: gwapiv1.GroupName, Kind: "GatewayClass", Name: c.Name},
				Conditions:  []metav1.Condition{cond},
			})
		}
	}
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayParams: key.String()}); err != nil {
		return nil, fmt.Errorf("listing Gateways referencing %s: %w", key, err)
	}
	for _, g := range gws.Items {
		if ours[string(g.Spec.GatewayClassName)] {
			out = append(out, v1alpha1.AncestorStatus{
				AncestorRef: v1alpha1.AncestorReference{Group: gwapiv1.GroupName, Kind: "Gateway", Namespace: g.Namespace, Name: g.Name},
				Conditions:  []metav1.Condition{cond},
			})
		}
	}
	slices.SortFunc(out, func(a, b v1alpha1.AncestorStatus) int {
		return strings.Compare(ancestorKey(a.AncestorRef), ancestorKey(b.AncestorRef))
	})
	return out, nil
}

func ancestorKey(a v1alpha1.AncestorReference) string {
	return a.Kind + "/" + a.Namespace + "/" + a.Name
}

// mergeAncestors keeps the LastTransitionTime of ancestor conditions that did not change
// and stamps it on new ones (the API server requires it).
func mergeAncestors(old, next []v1alpha1.AncestorStatus) []v1alpha1.AncestorStatus {
	for i := range next {
		var conds []metav1.Condition
		for _, o := range old {
			if o.AncestorRef == next[i].AncestorRef {
				conds = slices.Clone(o.Conditions)
				break
			}
		}
		for _, c := range next[i].Conditions {
			meta.SetStatusCondition(&conds, c)
		}
		next[i].Conditions = conds
	}
	return next
}

// SetupWithManager registers the reconciler; class and Gateway changes map to the
// parameters they reference (both before and after an update).
func (r *CaddyProxyConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("caddyproxyconfig").
		For(&v1alpha1.CaddyProxyConfig{}).
		Watches(&gwapiv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(r.paramsOfClass)).
		Watches(&gwapiv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(paramsOfGateway)).
		Complete(r)
}

// paramsOfClass maps a class to the parameters it references and to those its Gateways
// reference: a Gateway counts as an ancestor only while its class exists and is ours, so
// a class created after its Gateways (or deleted before them) changes their parameters'
// ancestors too.
func (r *CaddyProxyConfigReconciler) paramsOfClass(ctx context.Context, o client.Object) []reconcile.Request {
	keys := classParamsKey(o)
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayClassName: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of GatewayClass", "gatewayClass", o.GetName())
		return keysToRequests(keys)
	}
	for i := range gws.Items {
		keys = append(keys, gatewayParamsKey(&gws.Items[i])...)
	}
	return keysToRequests(keys)
}

func paramsOfGateway(_ context.Context, o client.Object) []reconcile.Request {
	return keysToRequests(gatewayParamsKey(o))
}

func keysToRequests(keys []string) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(keys))
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	}
	return reqs
}

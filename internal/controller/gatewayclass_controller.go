package controller

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/features"
	"github.com/caddy-gateway/operator/internal/gatewayapi"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/internal/status"
)

// GatewayClassReconciler accepts the GatewayClasses whose controllerName is ours: it
// resolves their parametersRef, reports the supported Gateway API version and features,
// and holds the gateway-exists finalizer while Gateways of the class exist.
type GatewayClassReconciler struct {
	client.Client
	// ControllerName is the spec.controllerName of the classes this operator owns.
	ControllerName gwapiv1.GatewayController
}

// The class is patched (its gateway-exists finalizer) and its status updated; nothing owns
// a GatewayClass, so gatewayclasses/finalizers is not needed.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses/status,verbs=update
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.caddygateway.io,resources=caddyproxyconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch

// Reconcile brings one GatewayClass's finalizer and status in line with the cluster.
func (r *GatewayClassReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var gc gwapiv1.GatewayClass
	if err := r.Get(ctx, req.NamespacedName, &gc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if gc.Spec.ControllerName != r.ControllerName {
		return ctrl.Result{}, nil
	}
	if err := r.reconcileFinalizer(ctx, &gc); err != nil {
		return ctrl.Result{}, err
	}
	if !gc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	accepted, err := r.acceptance(ctx, &gc)
	if err != nil {
		return ctrl.Result{}, err
	}
	version, err := r.supportedVersion(ctx, gc.Generation)
	if err != nil {
		return ctrl.Result{}, err
	}

	next := gc.Status.DeepCopy()
	status.Merge(&next.Conditions, accepted, version)
	next.SupportedFeatures = features.Supported()
	if equality.Semantic.DeepEqual(&gc.Status, next) {
		return ctrl.Result{}, nil
	}
	gc.Status = *next
	return ctrl.Result{}, r.Status().Update(ctx, &gc)
}

// reconcileFinalizer adds the gateway-exists finalizer while Gateways use the class and
// removes it once none do.
func (r *GatewayClassReconciler) reconcileFinalizer(ctx context.Context, gc *gwapiv1.GatewayClass) error {
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayClassName: gc.Name}); err != nil {
		return fmt.Errorf("listing Gateways of class %s: %w", gc.Name, err)
	}
	want := len(gws.Items) > 0
	if want == controllerutil.ContainsFinalizer(gc, gwapiv1.GatewayClassFinalizerGatewaysExist) {
		return nil
	}
	patch := client.MergeFromWithOptions(gc.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if want {
		controllerutil.AddFinalizer(gc, gwapiv1.GatewayClassFinalizerGatewaysExist)
	} else {
		controllerutil.RemoveFinalizer(gc, gwapiv1.GatewayClassFinalizerGatewaysExist)
	}
	return r.Patch(ctx, gc, patch)
}

// acceptance resolves the class's parametersRef into its Accepted condition. Only
// transient read errors are returned; every user mistake becomes the condition.
func (r *GatewayClassReconciler) acceptance(ctx context.Context, gc *gwapiv1.GatewayClass) (metav1.Condition, error) {
	key, ok, err := params.ClassRef(gc.Spec.ParametersRef)
	if err != nil {
		return status.ClassInvalidParameters(gc.Generation, err.Error()), nil
	}
	if !ok {
		return status.ClassAccepted(gc.Generation), nil
	}
	var cpc v1alpha1.CaddyProxyConfig
	if err := r.Get(ctx, key, &cpc); err != nil {
		if apierrors.IsNotFound(err) {
			return status.ClassInvalidParameters(gc.Generation, params.NotFound(key).Error()), nil
		}
		return metav1.Condition{}, fmt.Errorf("reading CaddyProxyConfig %s: %w", key, err)
	}
	if err := params.Validate(&cpc.Spec); err != nil {
		return status.ClassInvalidParameters(gc.Generation, params.Invalid(key, err).Error()), nil
	}
	return status.ClassAccepted(gc.Generation), nil
}

// supportedVersion reads the release of the installed Gateway API CRDs.
func (r *GatewayClassReconciler) supportedVersion(ctx context.Context, generation int64) (metav1.Condition, error) {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	if err := r.Get(ctx, types.NamespacedName{Name: gatewayapi.GatewayClassCRD}, crd); err != nil {
		return metav1.Condition{}, fmt.Errorf("reading CRD %s: %w", gatewayapi.GatewayClassCRD, err)
	}
	ok, msg := gatewayapi.CheckBundleVersion(crd.GetAnnotations())
	return status.ClassSupportedVersion(generation, ok, msg), nil
}

// SetupWithManager registers the reconciler and the watches that map related objects
// (parameters, Gateways, the Gateway API CRD) to the classes they affect.
func (r *GatewayClassReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.(*gwapiv1.GatewayClass).Spec.ControllerName == r.ControllerName
	})
	crdMeta := &metav1.PartialObjectMetadata{}
	crdMeta.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	return ctrl.NewControllerManagedBy(mgr).
		Named("gatewayclass").
		For(&gwapiv1.GatewayClass{}, builder.WithPredicates(ours)).
		Watches(&v1alpha1.CaddyProxyConfig{}, handler.EnqueueRequestsFromMapFunc(r.classesForParams),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gwapiv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(classOfGateway),
			builder.WithPredicates(gatewayClassNameChanged())).
		WatchesMetadata(crdMeta, handler.EnqueueRequestsFromMapFunc(r.allOurClasses),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
				return o.GetName() == gatewayapi.GatewayClassCRD
			}))).
		Complete(r)
}

func (r *GatewayClassReconciler) classesForParams(ctx context.Context, o client.Object) []reconcile.Request {
	var classes gwapiv1.GatewayClassList
	if err := r.List(ctx, &classes, client.MatchingFields{indexClassParams: client.ObjectKeyFromObject(o).String()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing GatewayClasses for CaddyProxyConfig", "caddyProxyConfig", client.ObjectKeyFromObject(o))
		return nil
	}
	return r.requestsFor(classes.Items)
}

func (r *GatewayClassReconciler) allOurClasses(ctx context.Context, _ client.Object) []reconcile.Request {
	var classes gwapiv1.GatewayClassList
	if err := r.List(ctx, &classes); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing GatewayClasses")
		return nil
	}
	return r.requestsFor(classes.Items)
}

func (r *GatewayClassReconciler) requestsFor(classes []gwapiv1.GatewayClass) []reconcile.Request {
	var reqs []reconcile.Request
	for _, c := range classes {
		if c.Spec.ControllerName == r.ControllerName {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
		}
	}
	return reqs
}

func classOfGateway(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: string(o.(*gwapiv1.Gateway).Spec.GatewayClassName)}}}
}

// gatewayClassNameChanged passes Gateway creations, deletions and class changes: the
// only Gateway events that can change a class's finalizer.
func gatewayClassNameChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.(*gwapiv1.Gateway).Spec.GatewayClassName != e.ObjectNew.(*gwapiv1.Gateway).Spec.GatewayClassName
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

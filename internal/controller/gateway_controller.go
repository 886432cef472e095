package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// GatewayReconciler provisions each Gateway's Caddy fleet: it merges the class-level and
// Gateway-level parameters, renders the objects, server-side applies them, prunes what is
// no longer desired, keeps the admin certificates issued and reports the Gateway's status.
// Invalid parameters leave the last good fleet running.
type GatewayReconciler struct {
	client.Client
	// APIReader reads objects the cache does not hold (listener certificate Secrets).
	APIReader client.Reader
	// Pusher delivers configurations to the Caddy pods.
	Pusher *pusher.Pusher
	// RouteStatus writes the parent entries of route statuses.
	RouteStatus *RouteStatusReconciler
	// Recorder emits Events on Gateways.
	Recorder recorder.EventRecorder
	// ControllerName is the spec.controllerName of the classes this operator owns.
	ControllerName gwapiv1.GatewayController
	// Images are the default data-plane and admin-proxy images.
	CaddyImage, OperatorImage string
	// Operator selects the operator's pods, the only default peers of Caddy's admin port.
	// Its namespace holds the admin objects that must stay out of the Gateways' namespaces.
	Operator infra.OperatorPods
	// MountGrace: see Options.MountGrace.
	MountGrace time.Duration

	// routeKinds are the route kinds served: their routes are watched, loaded and given
	// statuses (Setup: the installed ones).
	routeKinds routeKinds
	// backendTLS says whether BackendTLSPolicies and ClusterTrustBundles are served:
	// watched, loaded and (policies) given statuses.
	backendTLS backendTLSAPIs
	// listenerSets says whether ListenerSets are served: watched, loaded and given
	// statuses.
	listenerSets bool
	// observeInput: see Options.ObserveTranslationInput.
	observeInput func(*translator.Input)
	// observeWork, when set, is told of each piece of work a memo did not spare
	// (workAdminCertificates, workAdminClientTLS).
	observeWork func(string)

	// applied lets reconciles that change nothing skip their server-side applies.
	applied appliedMemo
	// refused remembers the pods refused as push targets, so each is reported once.
	refused refusedPods
	// certWatch adds the watches of cert-manager's kinds once its API is seen.
	certWatch certManagerWatch
	// statuses lets a reconcile decide on its own last status write while the cache has
	// not brought it yet.
	statuses statusMemo
	// routability: see routabilityMemo.
	routability routabilityMemo
	// addressRefusals: see addressRefusals.
	addressRefusals addressRefusals
	// certManagerAbsent is when cert-manager's API was last found missing
	// (certManagerInstalled).
	certManagerAbsent absence
	// adminCerts: see adminCertsMemo.
	adminCerts adminCertsMemo
	// adminTLS: see adminTLSMemo.
	adminTLS adminTLSMemo
	// backends: see backendsMemo.
	backends backendsMemo
	// memos: see renderMemo.
	memos perGateway[renderMemo]
	// servedOnce maps the Gateways that have had a Ready Caddy pod to their UID
	// (ordersHeld).
	servedOnce sync.Map
	// statusTimes and setStatusTimes: see countsInterval.
	statusTimes, setStatusTimes statusWriteTimes
	// pace: see burstPace.
	pace reconcilePace
}

// Writes are what the code does, nothing more: fleet objects are server-side applied
// (patch; create when missing) and deleted, the built-in admin certificate Secrets are
// created and updated, the Gateway's status is a merge patch, routes' statuses are
// updated. gateways/finalizers update lets the fleet's owner references to the Gateway set
// blockOwnerDeletion where the OwnerReferencesPermissionEnforcement admission plugin is on.
// config/admission-policy limits these writes to objects labelled managed-by this operator.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways/status,verbs=patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=serviceaccounts;configmaps;services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments;daemonsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=referencegrants,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=replicasets;controllerrevisions,verbs=get;list;watch
//
// The storage of automatic certificates: Secrets and Leases created empty (server-side
// apply of their metadata: patch) and bound to the Gateway's ServiceAccount by a Role that
// grants get and update on exactly those. Granting a right takes holding it (the API
// server's escalation check): hence update on leases (and on secrets, above), which the
// operator itself never uses on them.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;patch;update;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch;delete

// Reconcile brings one Gateway's fleet and status in line with its parameters, once
// burstPace allows (reconcilePace).
func (r *GatewayReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.pace.run(req.NamespacedName, func() (ctrl.Result, error) { return r.reconcile(ctx, req) })
}

func (r *GatewayReconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var gw gwapiv1.Gateway
	if err := r.Get(ctx, req.NamespacedName, &gw); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, r.forgetGateway(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	r.statuses.latest(&gw)
	var gc gwapiv1.GatewayClass
	if err := r.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &gc); err != nil {
		// A missing class is no move to another controller: the class of a Gateway of
		// ours cannot go while the Gateway uses it (the gateway-exists finalizer), so it is
		// a class not created yet, or one being recreated. The fleet keeps serving.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if gc.Spec.ControllerName != r.ControllerName {
		return ctrl.Result{}, r.releaseGateway(ctx, &gw)
	}

	// The ListenerSets are read once: the translation, the refusals and the statuses of
	// this reconcile all take them from here.
	sets, err := r.listenerSetsOf(ctx, &gw)
	if err != nil {
		return ctrl.Result{}, err
	}
	spec, err := r.mergedParams(ctx, &gc, &gw)
	var perr *paramsError
	if errors.As(err, &perr) {
		return ctrl.Result{}, r.refuseGateway(ctx, &gw, sets, perr.msg, status.GatewayInvalidParameters(gw.Generation, perr.msg), notProgrammedInvalid(gw.Generation))
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	addresses := addressReport{plan: ptr.To(infra.PlanAddresses(&gw, spec))}
	if u := addresses.plan.Unsupported; len(u) > 0 {
		return ctrl.Result{}, r.refuseGateway(ctx, &gw, sets, "it asks for an address of a type that is not supported", status.GatewayUnsupportedAddress(gw.Generation, u),
			status.GatewayNotProgrammed(gw.Generation, gwapiv1.GatewayReasonInvalid,
				"an address is not supported (see Accepted); the last good configuration keeps serving"))
	}
	// The translation decides what the fleet needs beyond its parameters (the storage of
	// automatic certificates), so it comes before the render.
	translated, err := r.translate(ctx, &gw, sets, spec)
	if err != nil {
		return ctrl.Result{}, err
	}
	objs, err := infra.Render(infra.Input{
		Gateway: &gw, ListenerSetListeners: translated.translation.ListenerSetListeners, Spec: spec,
		CaddyImage: r.CaddyImage, OperatorImage: r.OperatorImage, Operator: r.Operator,
		ACME: translated.translation.IR.ACME != nil,
	})
	if err != nil {
		return ctrl.Result{}, r.refuseGateway(ctx, &gw, sets, err.Error(), status.GatewayInvalidParameters(gw.Generation, err.Error()), notProgrammedInvalid(gw.Generation))
	}

	var tls *v1alpha1.AdminTLSSpec
	if spec.ControlPlane != nil {
		tls = spec.ControlPlane.TLS
	}
	certCond, recheck, err := r.ensureAdminCertificates(ctx, &gw, tls)
	if err != nil {
		return ctrl.Result{}, err
	}
	for _, o := range objs {
		if svc, ok := o.(*corev1.Service); ok {
			if addresses.refusal, err = r.applyService(ctx, &gw, svc, addresses.plan); err != nil {
				return ctrl.Result{}, err
			}
			continue
		}
		if err := r.apply(ctx, &gw, o); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.prune(ctx, &gw, objs); err != nil {
		return ctrl.Result{}, err
	}
	return r.program(ctx, &gw, spec, translated, addresses, certCond, recheck)
}

// forgetGateway drops what the operator keeps for a deleted Gateway (its fleet and pods
// are going with it, owned by it), deletes its admin objects from the operator's
// namespace (which it cannot own), removes its entries from the statuses of routes and
// BackendTLSPolicies and marks the ListenerSets naming it not accepted: they must not go
// on claiming to be accepted by a Gateway that is gone.
func (r *GatewayReconciler) forgetGateway(ctx context.Context, key types.NamespacedName) error {
	r.Pusher.Forget(key.String())
	r.applied.forget(key)
	r.refused.forget(key)
	r.addressRefusals.forget(key)
	r.adminCerts.forget(key)
	r.adminTLS.forget(key)
	r.servedOnce.Delete(key)
	r.statuses.forget(key)
	r.statusTimes.forget(key)
	r.pace.forget(key)
	r.backends.forget(key)
	r.memos.forget(key)
	r.RouteStatus.ForgetGateway(key)
	if err := r.deleteAdminObjects(ctx, key); err != nil {
		return err
	}
	gone := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	sets, err := r.listenerSetsOf(ctx, gone)
	if err != nil {
		return err
	}
	if err := r.writeRouteStatuses(ctx, gone, sets, nil, nil); err != nil {
		return err
	}
	if err := r.refuseListenerSets(ctx, gone, sets, "it does not exist"); err != nil {
		return err
	}
	return r.writePolicyStatuses(ctx, gone, nil)
}

// refuseGateway reports a Gateway that is not accepted: its ListenerSets (sets, those
// that name it) are refused with why (ParentNotAccepted) and conds go into its status.
// The fleet keeps serving its last good configuration.
func (r *GatewayReconciler) refuseGateway(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, why string, conds ...metav1.Condition) error {
	if err := r.refuseListenerSets(ctx, gw, sets, why); err != nil {
		return err
	}
	_, err := r.writeStatus(ctx, gw, nil, nil, addressReport{}, conds...)
	return err
}

// program configures the Gateway's Caddy pods with its translation and reports the
// outcome in the statuses of the Gateway and its routes. recheck is when the
// provisioning wants another look.
func (r *GatewayReconciler) program(ctx context.Context, gw *gwapiv1.Gateway, spec *v1alpha1.CaddyProxyConfigSpec, translated configOutcome, addresses addressReport, certCond metav1.Condition, recheck time.Duration) (ctrl.Result, error) {
	// Coalesce bursts: a Gateway pushed to a moment ago waits out its minimum interval,
	// and everything that changes meanwhile goes out in one push.
	if wait := r.Pusher.Wait(client.ObjectKeyFromObject(gw).String(), pushTuning(spec)); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	out, err := r.configure(ctx, gw, spec, translated)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeRouteStatuses(ctx, gw, out.sets, withRefusals(out.translation.Routes, out.push.TableErrors), out.routes); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writePolicyStatuses(ctx, gw, out.translation.Policies); err != nil {
		return ctrl.Result{}, err
	}
	programmed := programmedCondition(gw.Generation, out)
	if programmed.Status != metav1.ConditionTrue && out.push.Pushed > 0 && len(out.push.Errors)+len(out.push.TableErrors) > 0 {
		r.Recorder.Eventf(gw, nil, corev1.EventTypeWarning, "PushFailed", "Push", "%s", programmed.Message)
	}
	setCounts, err := r.writeListenerSetStatuses(ctx, out.translation.ListenerSets, programmed)
	if err != nil {
		return ctrl.Result{}, err
	}
	listeners := listenerStatuses(gw.Status.Listeners, out.translation.Listeners, programmed)
	conds := append([]metav1.Condition{status.GatewayAcceptedWithListeners(gw.Generation, listeners), certCond, programmed}, out.translation.Conditions...)
	counts, err := r.writeStatus(ctx, gw, listeners, attachedListenerSets(out.translation), addresses, conds...)
	// The backoff of the pods that failed, and the counts not written yet.
	for _, r := range []time.Duration{out.push.RetryAfter, counts, setCounts} {
		if r > 0 && (recheck == 0 || r < recheck) {
			recheck = r
		}
	}
	return ctrl.Result{RequeueAfter: recheck}, err
}

// writeStatus merges conditions into the Gateway's status, replaces its listener statuses
// (unless listeners is nil), sets attachedListenerSets to attachedSets, sets its addresses
// from the fleet's Service as measured against the requested ones (addressStatus; its
// conditions are merged last, so an address not served makes the Gateway not
// programmed) and writes the status only when it changed. With listeners (a translation
// ran), the conditions the translation decides but did not return are removed. The
// write is a merge patch guarded
// by the resourceVersion: conditions are a list, which a merge patch replaces whole, so a
// write based on a cache that has not seen another writer's condition yet would delete
// it. On a conflict the Gateway is read again from the API server and the write is
// retried on that. A write that would change only the listeners' attachedRoutes waits
// out countsInterval: it is not made, and the time left is returned, after which the
// Gateway must be reconciled again.
func (r *GatewayReconciler) writeStatus(ctx context.Context, gw *gwapiv1.Gateway, listeners []gwapiv1.ListenerStatus, attachedSets *int32, rep addressReport, conds ...metav1.Condition) (time.Duration, error) {
	addresses, setAddresses, addrConds, err := r.addressStatus(ctx, gw, rep)
	if err != nil {
		return 0, err
	}
	conds = append(conds, addrConds...)
	for attempt := 0; ; attempt++ {
		next := gw.Status.DeepCopy()
		next.AttachedListenerSets = attachedSets
		if listeners != nil {
			next.Listeners = listeners
			for _, typ := range translator.GatewayConditionTypes {
				if !slices.ContainsFunc(conds, func(c metav1.Condition) bool { return c.Type == typ }) {
					meta.RemoveStatusCondition(&next.Conditions, typ)
				}
			}
		}
		if len(addrConds) == 0 {
			dropAddressConditions(&next.Conditions)
		}
		status.Merge(&next.Conditions, conds...)
		if setAddresses {
			next.Addresses = r.routability.fit(addresses)
		}
		if equality.Semantic.DeepEqual(&gw.Status, next) {
			return 0, nil
		}
		key := client.ObjectKeyFromObject(gw)
		if countsOnly(&gw.Status, next, zeroGatewayCounts) {
			if wait := r.statusTimes.countsWait(key); wait > 0 {
				return wait, nil
			}
		}
		patch := client.MergeFromWithOptions(gw.DeepCopy(), client.MergeFromWithOptimisticLock{})
		gw.Status = *next
		replaced := gw.ResourceVersion
		perr := r.Status().Patch(ctx, gw, patch)
		if perr == nil {
			r.statuses.record(replaced, gw)
			r.statusTimes.wrote(key)
			r.routability.learn(next.Addresses, gw.Status.Addresses)
		}
		if !apierrors.IsConflict(perr) || attempt == 2 {
			return 0, perr
		}
		var fresh gwapiv1.Gateway
		if err := r.APIReader.Get(ctx, key, &fresh); err != nil {
			return 0, client.IgnoreNotFound(err)
		}
		if fresh.Generation != gw.Generation {
			// The spec changed: the reconcile of the new generation writes the status.
			return 0, nil
		}
		listeners = keepForeignListenerConditions(listeners, fresh.Status.Listeners)
		*gw = fresh
	}
}

// SetupWithManager registers the reconciler. Changes to owned objects (drift, deletion),
// to the admin certificate Secrets, to the class, to the parameters, to ListenerSets, to
// routes and what they reference, and to listener certificate Secrets map back to the
// Gateways they affect. The cert-manager objects are watched from the first reconcile that finds
// cert-manager's API (certManagerWatch).
func (r *GatewayReconciler) SetupWithManager(mgr ctrl.Manager) error {
	secrets, err := newSecretMetadataCache(mgr)
	if err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("gateway").
		For(&gwapiv1.Gateway{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.Deployment{}).Owns(&appsv1.DaemonSet{}).Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).Owns(&corev1.ConfigMap{}).Owns(&networkingv1.NetworkPolicy{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&rbacv1.Role{}).Owns(&rbacv1.RoleBinding{}).
		Owns(&coordinationv1.Lease{}, builder.WithPredicates(storageChanged(acmestore.States))).
		// The admin Secrets: the copy the pods mount, owned by the Gateway, and those in
		// the operator's namespace (the built-in CA's, cert-manager's, the trust bundle),
		// which name their Gateway in an annotation; and the storage Secrets of automatic
		// certificates, owned by the Gateway.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.gatewayOfAdminObject),
			builder.WithPredicates(storageChanged(acmestore.States))).
		Watches(&gwapiv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfClass)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfBackend)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.gatewayOfFleetObject)).
		WatchesRawSource(source.Kind[client.Object](secrets, secretMetadata(), handler.EnqueueRequestsFromMapFunc(r.gatewaysOfSecret))).
		WatchesRawSource(source.Kind[client.Object](secrets, configMapMetadata(), handler.EnqueueRequestsFromMapFunc(r.gatewaysOfCAConfigMap))).
		Watches(&gwapiv1.ReferenceGrant{}, handler.EnqueueRequestsFromMapFunc(r.allGateways)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.allGateways),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&v1alpha1.CaddyProxyConfig{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysForParams),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	// A route's status is written by this operator (RouteStatusReconciler) and by others;
	// only a change of its spec (or labels and annotations, which count for nothing here)
	// can change the Gateway's configuration.
	for _, k := range r.routeKinds {
		b = b.Watches(k.newRoute(), handler.EnqueueRequestsFromMapFunc(r.gatewaysOfRoute(k)),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	b = r.watchBackendTLS(b)
	if r.listenerSets {
		b = b.Watches(&gwapiv1.ListenerSet{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfListenerSet),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	c, err := b.Build(r)
	if err != nil {
		return err
	}
	if r.Operator.Namespace == "" {
		return errors.New("the operator's namespace is required: it holds the admin certificates")
	}
	// cert-manager's kinds are read in the operator's namespace only (a Role there).
	certCache, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{r.Operator.Namespace: {}}, DefaultTransform: trimMetadataOnly,
	})
	if err != nil {
		return fmt.Errorf("creating the cache of cert-manager objects: %w", err)
	}
	if err := mgr.Add(certCache); err != nil {
		return err
	}
	r.certWatch = certManagerWatch{controller: c, cache: certCache, handler: handler.EnqueueRequestsFromMapFunc(r.gatewayOfAdminObject)}
	return mgr.Add(manager.RunnableFunc(r.sweepAdminObjects))
}

func (r *GatewayReconciler) gatewaysOfClass(ctx context.Context, o client.Object) []reconcile.Request {
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayClassName: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways of class", "gatewayClass", o.GetName())
		return nil
	}
	return gatewayRequests(gws.Items)
}

// gatewaysForParams maps a CaddyProxyConfig to the Gateways using it directly or through
// their class.
func (r *GatewayReconciler) gatewaysForParams(ctx context.Context, o client.Object) []reconcile.Request {
	key := client.ObjectKeyFromObject(o).String()
	var gws gwapiv1.GatewayList
	if err := r.List(ctx, &gws, client.MatchingFields{indexGatewayParams: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing Gateways for CaddyProxyConfig", "caddyProxyConfig", key)
		return nil
	}
	reqs := gatewayRequests(gws.Items)
	var classes gwapiv1.GatewayClassList
	if err := r.List(ctx, &classes, client.MatchingFields{indexClassParams: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing GatewayClasses for CaddyProxyConfig", "caddyProxyConfig", key)
		return reqs
	}
	for _, c := range classes.Items {
		reqs = append(reqs, r.gatewaysOfClass(ctx, &c)...)
	}
	return reqs
}

func gatewayRequests(gws []gwapiv1.Gateway) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(gws))
	for _, g := range gws {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
	}
	return reqs
}

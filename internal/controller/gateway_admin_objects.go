package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
)

// sweepInterval is how often the operator's namespace is swept of the admin objects of
// Gateways that no longer exist.
const sweepInterval = 30 * time.Minute

// +kubebuilder:rbac:groups=cert-manager.io,namespace=caddy-gateway-system,resources=issuers;certificates,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,namespace=caddy-gateway-system,resources=certificates/status,verbs=update

// gatewayOfAdminObject maps an admin object to its Gateway: in the operator's namespace by
// certs.AnnotationGateway, elsewhere (the server Secret copy) as a fleet object.
func (r *GatewayReconciler) gatewayOfAdminObject(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() == r.Operator.Namespace {
		if key, ok := adminGateway(o); ok {
			return []reconcile.Request{{NamespacedName: key}}
		}
	}
	return r.gatewayOfFleetObject(ctx, o)
}

// adminGateway returns the Gateway an object of the operator's namespace belongs to.
func adminGateway(o client.Object) (types.NamespacedName, bool) {
	ns, name, ok := strings.Cut(o.GetAnnotations()[certs.AnnotationGateway], "/")
	if !ok || ns == "" || name == "" || o.GetLabels()[certs.LabelGatewayUID] == "" {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: ns, Name: name}, true
}

// adminObjects lists the admin objects in the operator's namespace (cert-manager Issuers
// and Certificates first, with withCertManager, then Secrets) whose Gateway keep accepts.
func (r *GatewayReconciler) adminObjects(ctx context.Context, withCertManager bool, keep func(types.NamespacedName, string) bool) ([]client.Object, error) {
	owned, err := labels.NewRequirement(certs.LabelGatewayUID, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	sel := client.MatchingLabelsSelector{Selector: labels.NewSelector().Add(*owned)}
	in := client.InNamespace(r.Operator.Namespace)
	var lists []client.ObjectList
	if withCertManager {
		for _, kind := range []string{certs.KindCertificate, certs.KindIssuer} {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(certManagerMetadata(kind).GroupVersionKind().GroupVersion().WithKind(kind + "List"))
			lists = append(lists, list)
		}
	}
	var out []client.Object
	for _, list := range append(lists, &corev1.SecretList{}) {
		// From the API server: the cache of cert-manager's kinds exists only once a Gateway
		// has found cert-manager installed, and the Secret cache holds only Secrets with
		// the fleet's labels.
		if err := r.APIReader.List(ctx, list, in, sel); err != nil {
			return nil, fmt.Errorf("listing admin objects %T in %s: %w", list, r.Operator.Namespace, err)
		}
		items, err := apiMetaItems(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			if pm, ok := o.(*metav1.PartialObjectMetadata); ok {
				pm.SetGroupVersionKind(pm.GroupVersionKind().GroupVersion().WithKind(strings.TrimSuffix(list.GetObjectKind().GroupVersionKind().Kind, "List")))
			}
			if key, ok := adminGateway(o); ok && keep(key, o.GetLabels()[certs.LabelGatewayUID]) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// deleteAdminObjects deletes the admin objects of the Gateway key from the operator's
// namespace: cert-manager's first, so that it issues no Secret again. cert-manager's
// kinds are looked for when a Gateway has found cert-manager installed since the
// operator started (every Gateway is reconciled then; the sweep at start covers those
// deleted before): API discovery, once it has seen cert-manager, is not asked again.
func (r *GatewayReconciler) deleteAdminObjects(ctx context.Context, key types.NamespacedName) error {
	objs, err := r.adminObjects(ctx, r.certWatch.seen(), func(k types.NamespacedName, _ string) bool { return k == key })
	if err != nil {
		return err
	}
	gone := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	return r.deleteAll(ctx, gone, objs)
}

// sweepAdminObjects deletes, when the operator starts and every sweepInterval, the admin
// objects in the operator's namespace whose Gateway is gone: deleted while the operator
// was not running, or a deletion that failed. It runs until ctx ends.
func (r *GatewayReconciler) sweepAdminObjects(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("admin-sweep")
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if n, err := r.sweepOnce(ctx); err != nil {
			log.Error(err, "Sweeping the admin objects of deleted Gateways")
		} else if n > 0 {
			log.Info("Deleted the admin objects of deleted Gateways", "objects", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sweepOnce deletes the admin objects of Gateways that do not exist, and returns how many.
func (r *GatewayReconciler) sweepOnce(ctx context.Context) (int, error) {
	installed, err := r.certManagerInstalled()
	if err != nil {
		return 0, err
	}
	exists := map[types.NamespacedName]bool{}
	var lookupErr error
	objs, err := r.adminObjects(ctx, installed, func(key types.NamespacedName, _ string) bool {
		found, seen := exists[key]
		if !seen {
			err := r.APIReader.Get(ctx, key, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{
				APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway"}})
			if err != nil && !apierrors.IsNotFound(err) {
				lookupErr = err
				return false
			}
			found = err == nil
			exists[key] = found
		}
		return !found
	})
	if err == nil {
		err = lookupErr
	}
	if err != nil {
		return 0, err
	}
	return len(objs), r.deleteAll(ctx, &gwapiv1.Gateway{}, objs)
}

package controller

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
)

// builtInRecheck is how often certificates of the built-in CA are checked for renewal.
const builtInRecheck = 6 * time.Hour

// ensureAdminCertificates makes sure the admin channel's Secrets exist: through
// cert-manager when its API is installed, else issued by the built-in CA. It returns the
// condition to report and when to look again.
func (r *GatewayReconciler) ensureAdminCertificates(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec) (metav1.Condition, time.Duration, error) {
	_, err := r.RESTMapper().RESTMapping(schema.GroupKind{Group: certs.CertManagerGroup, Kind: certs.KindCertificate}, "v1")
	switch {
	case err == nil:
		// Watch before applying: an object deleted after the apply is then never missed.
		if err := r.certWatch.start(r.Scheme(), r.RESTMapper()); err != nil {
			return metav1.Condition{}, 0, err
		}
		objs := certs.RenderCertManager(certs.CertManagerInput{
			Gateway: gw.Name, Namespace: gw.Namespace, Owner: plainOwnerRef(gw),
			Labels: certLabels(gw), Annotations: infraAnnotations(gw), TLS: tls,
		})
		for _, o := range objs {
			if err := r.apply(ctx, gw, o); err != nil {
				return metav1.Condition{}, 0, err
			}
		}
		return status.AdminCertificates(gw.Generation, status.ReasonCertManager,
			"cert-manager issues the admin certificates"), 0, nil
	case meta.IsNoMatchError(err):
		if tls != nil && tls.IssuerRef != nil {
			return status.AdminCertificates(gw.Generation, status.ReasonIssuingFailed,
				"spec.controlPlane.tls.issuerRef needs cert-manager, which is not installed"), 0, nil
		}
		if err := r.ensureBuiltInSecrets(ctx, gw, tls); err != nil {
			return metav1.Condition{}, 0, err
		}
		return status.AdminCertificates(gw.Generation, status.ReasonBuiltInCA,
			"cert-manager is not installed; the operator's built-in CA issues the admin certificates"), builtInRecheck, nil
	default:
		return metav1.Condition{}, 0, fmt.Errorf("discovering cert-manager: %w", err)
	}
}

// certManagerWatch adds to the Gateway controller, once, the watches of the cert-manager
// kinds the operator creates, so that a change to one of them, its deletion above all,
// reconciles the Gateway that owns it. They cannot be set up with the controller: the
// informer of a kind whose API is missing never syncs, and cert-manager may be installed
// after the operator starts.
type certManagerWatch struct {
	controller controller.Controller
	cache      cache.Cache

	mu      sync.Mutex
	watched map[string]bool
}

// start adds the watches not added yet. Without a controller (a reconciler not set up
// with a manager) it does nothing.
func (w *certManagerWatch) start(scheme *runtime.Scheme, mapper meta.RESTMapper) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.controller == nil {
		return nil
	}
	for _, kind := range []string{certs.KindIssuer, certs.KindCertificate} {
		if w.watched[kind] {
			continue
		}
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(schema.GroupVersionKind{Group: certs.CertManagerGroup, Version: "v1", Kind: kind})
		// Any owner reference, not only controller ones: the admin objects have no
		// controller (certs.RenderCertManager says why).
		owner := handler.EnqueueRequestForOwner(scheme, mapper, &gwapiv1.Gateway{})
		// Not their status, which cert-manager updates while issuing.
		changed := predicate.GenerationChangedPredicate{}
		if err := w.controller.Watch(source.Kind[client.Object](w.cache, obj, owner, changed)); err != nil {
			return fmt.Errorf("watching cert-manager %ss: %w", kind, err)
		}
		if w.watched == nil {
			w.watched = map[string]bool{}
		}
		w.watched[kind] = true
	}
	return nil
}

// ensureBuiltInSecrets issues, or renews, the per-Gateway CA, the admin-proxy's server
// certificate and the operator's client certificate.
func (r *GatewayReconciler) ensureBuiltInSecrets(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec) error {
	n := certs.NamesFor(gw.Name)
	now := time.Now()
	duration, renewBefore := certs.DefaultDuration, certs.DefaultRenewBefore
	if tls != nil && tls.Duration != nil {
		duration = tls.Duration.Duration
	}
	if tls != nil && tls.RenewBefore != nil {
		renewBefore = tls.RenewBefore.Duration
	}
	caData, caRenewed, err := r.ensureSecret(ctx, gw, n.CA, certs.CARenewBefore, false, func() (map[string][]byte, error) {
		ca, err := certs.NewCA("caddy-admin-ca", certs.IssueOptions{Now: now})
		if err != nil {
			return nil, err
		}
		return certs.SecretData(ca, ca), nil
	})
	if err != nil {
		return err
	}
	ca, err := certs.ParseKeyPair(caData[certs.SecretCertKey], caData[certs.SecretKeyKey])
	if err != nil {
		return fmt.Errorf("built-in CA of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	opts := certs.IssueOptions{Now: now, Duration: duration}
	issue := map[string]func() (*certs.KeyPair, error){
		n.Server: func() (*certs.KeyPair, error) { return ca.IssueServer(certs.ServerName(gw.Name, gw.Namespace), opts) },
		n.Client: func() (*certs.KeyPair, error) { return ca.IssueClient(opts) },
	}
	for _, name := range []string{n.Server, n.Client} {
		if _, _, err := r.ensureSecret(ctx, gw, name, renewBefore, caRenewed, func() (map[string][]byte, error) {
			kp, err := issue[name]()
			if err != nil {
				return nil, err
			}
			return certs.SecretData(kp, ca), nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// ensureSecret returns the data of a TLS Secret, issuing it when it is missing, due for
// renewal or force is set; renewed reports whether it was issued now.
func (r *GatewayReconciler) ensureSecret(ctx context.Context, gw *gwapiv1.Gateway, name string, renewBefore time.Duration,
	force bool, issue func() (map[string][]byte, error)) (data map[string][]byte, renewed bool, err error) {
	var s corev1.Secret
	err = r.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: name}, &s)
	if client.IgnoreNotFound(err) != nil {
		return nil, false, fmt.Errorf("reading Secret %s/%s: %w", gw.Namespace, name, err)
	}
	exists := err == nil
	if exists && !force {
		if due, _ := certs.NeedsRenewal(s.Data, time.Now(), renewBefore); !due {
			return s.Data, false, nil
		}
	}
	if data, err = issue(); err != nil {
		return nil, false, fmt.Errorf("issuing %s: %w", name, err)
	}
	s.ObjectMeta = metav1.ObjectMeta{
		Name: name, Namespace: gw.Namespace, Labels: certLabels(gw),
		Annotations: withControllerName(infraAnnotations(gw), r.ControllerName), OwnerReferences: []metav1.OwnerReference{*ownerRef(gw)}, ResourceVersion: s.ResourceVersion,
	}
	s.Type, s.Data = corev1.SecretTypeTLS, data
	if exists {
		err = r.Update(ctx, &s)
	} else {
		err = r.Create(ctx, &s)
	}
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		return nil, false, fmt.Errorf("secret %s/%s changed concurrently: %w", gw.Namespace, name, err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("writing Secret %s/%s: %w", gw.Namespace, name, err)
	}
	r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, "Issued", "IssueCertificate", "Issued admin certificate Secret %s", name)
	return data, true, nil
}

func ownerRef(gw *gwapiv1.Gateway) *metav1.OwnerReference {
	return &metav1.OwnerReference{
		APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway", Name: gw.Name, UID: gw.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// plainOwnerRef is ownerRef without the controller flag: the owner reference of the
// cert-manager objects, which the Gateway must not control (see certs.RenderCertManager).
func plainOwnerRef(gw *gwapiv1.Gateway) *metav1.OwnerReference {
	ref := ownerRef(gw)
	ref.Controller = nil
	return ref
}

// certLabels are the labels of the admin certificate objects: spec.infrastructure.labels
// and the fleet labels, which win.
func certLabels(gw *gwapiv1.Gateway) map[string]string {
	l := map[string]string{}
	if inf := gw.Spec.Infrastructure; inf != nil {
		for k, v := range inf.Labels {
			l[string(k)] = string(v)
		}
	}
	maps.Copy(l, fleetLabels(gw))
	return l
}

// infraAnnotations are spec.infrastructure.annotations, or nil.
func infraAnnotations(gw *gwapiv1.Gateway) map[string]string {
	inf := gw.Spec.Infrastructure
	if inf == nil || len(inf.Annotations) == 0 {
		return nil
	}
	a := make(map[string]string, len(inf.Annotations))
	for k, v := range inf.Annotations {
		a[string(k)] = string(v)
	}
	return a
}

// fleetLabels are the labels every object of gw's fleet carries (the prune selector).
func fleetLabels(gw *gwapiv1.Gateway) map[string]string {
	l := infra.SelectorLabels(gw.Name)
	l[infra.LabelManagedBy] = infra.ManagedByValue
	return l
}

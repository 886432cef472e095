package controller

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// ensureAdminCertificates makes sure the admin channel's Secrets exist in the operator's
// namespace, through cert-manager when its API is installed, else issued by the built-in
// CA; keeps the trust bundle; and copies the server certificate into the Gateway's
// namespace for the pods. It returns the condition to report and when to look again.
func (r *GatewayReconciler) ensureAdminCertificates(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec) (metav1.Condition, time.Duration, error) {
	installed, err := r.certManagerInstalled()
	switch {
	case err != nil:
		return metav1.Condition{}, 0, err
	case installed:
		// Watch before applying: an object deleted after the apply is then never missed.
		if err := r.certWatch.start(); err != nil {
			return metav1.Condition{}, 0, err
		}
		objs := certs.RenderCertManager(certs.CertManagerInput{
			Gateway: gw.Name, Namespace: gw.Namespace, OperatorNamespace: r.Operator.Namespace,
			Labels: adminLabels(gw), Annotations: adminAnnotations(gw), TLS: tls,
		})
		for _, o := range objs {
			if err := r.apply(ctx, gw, o); err != nil {
				return metav1.Condition{}, 0, err
			}
		}
		recheck, err := r.checkAdminSecrets(ctx, gw, tls, true, func(c *adminCheck) (time.Duration, error) {
			return r.ensureTrust(ctx, gw, trustOptions{caSecret: tls == nil || tls.IssuerRef == nil, reissue: c.noting(r.reissueCertificate)})
		})
		if err != nil {
			return metav1.Condition{}, 0, err
		}
		if missing, err := r.missingIssuer(ctx, tls); err != nil || missing != "" {
			return status.AdminCertificates(gw.Generation, status.ReasonIssuingFailed, missing), missingIssuerRecheck, err
		}
		return status.AdminCertificates(gw.Generation, status.ReasonCertManager,
			"cert-manager issues the admin certificates"), recheck, nil
	default:
		if tls != nil && tls.IssuerRef != nil {
			return status.AdminCertificates(gw.Generation, status.ReasonIssuingFailed,
				"spec.controlPlane.tls.issuerRef needs cert-manager, which is not installed"), 0, nil
		}
		recheck, err := r.checkAdminSecrets(ctx, gw, tls, false, func(c *adminCheck) (time.Duration, error) {
			reissue, err := r.ensureBuiltInSecrets(ctx, gw, tls)
			if err != nil {
				return 0, err
			}
			return r.ensureTrust(ctx, gw, trustOptions{caSecret: true, reissue: c.noting(reissue)})
		})
		if err != nil {
			return metav1.Condition{}, 0, err
		}
		if recheck == 0 || recheck > builtInRecheck {
			recheck = builtInRecheck
		}
		return status.AdminCertificates(gw.Generation, status.ReasonBuiltInCA,
			"cert-manager is not installed; the operator's built-in CA issues the admin certificates"), recheck, nil
	}
}

// missingIssuerRecheck is how often a Gateway whose issuerRef names a missing Issuer looks
// for it again: the user's Issuer is not watched.
const missingIssuerRecheck = time.Minute

// missingIssuer says, naming the field, why the namespaced Issuer controlPlane.tls.issuerRef
// names cannot issue the admin certificates: they are issued in the operator's namespace,
// so an Issuer must be there; "" when it is, or when issuerRef names no namespaced Issuer.
func (r *GatewayReconciler) missingIssuer(ctx context.Context, tls *v1alpha1.AdminTLSSpec) (string, error) {
	if tls == nil || tls.IssuerRef == nil || tls.IssuerRef.Kind != certs.KindIssuer ||
		(tls.IssuerRef.Group != "" && tls.IssuerRef.Group != certs.CertManagerGroup) {
		return "", nil
	}
	issuer := &unstructured.Unstructured{}
	issuer.SetGroupVersionKind(schema.GroupVersionKind{Group: certs.CertManagerGroup, Version: "v1", Kind: certs.KindIssuer})
	err := r.Get(ctx, client.ObjectKey{Namespace: r.Operator.Namespace, Name: tls.IssuerRef.Name}, issuer)
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("spec.controlPlane.tls.issuerRef: Issuer %q is not in the operator's namespace %q, where the "+
			"admin certificates are issued; name an Issuer there or a ClusterIssuer", tls.IssuerRef.Name, r.Operator.Namespace), nil
	}
	if err != nil {
		return "", fmt.Errorf("reading Issuer %s/%s: %w", r.Operator.Namespace, tls.IssuerRef.Name, err)
	}
	return "", nil
}

// certManagerInstalled reports whether cert-manager's Certificate API is served. That it
// is not is trusted for certManagerRecheck: the lookup of a group discovery does not know
// asks the API server for its groups again.
func (r *GatewayReconciler) certManagerInstalled() (bool, error) {
	if r.certManagerAbsent.since(time.Now()) < certManagerRecheck {
		return false, nil
	}
	_, err := r.RESTMapper().RESTMapping(schema.GroupKind{Group: certs.CertManagerGroup, Kind: certs.KindCertificate}, "v1")
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		r.certManagerAbsent.record(time.Now())
		return false, nil
	default:
		return false, fmt.Errorf("discovering cert-manager: %w", err)
	}
}

// certManagerRecheck is how long cert-manager's API found missing is not looked up again.
const certManagerRecheck = time.Minute

// absence remembers when something was last found missing.
type absence struct {
	mu sync.Mutex
	at time.Time
}

// since is how long ago it was found missing; very long when it never was.
func (a *absence) since(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.at.IsZero() {
		return math.MaxInt64
	}
	return now.Sub(a.at)
}

func (a *absence) record(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = now
}

// certManagerWatch adds to the Gateway controller, once, the watches of the cert-manager
// kinds the operator creates, so that a change to one of them, its deletion above all,
// reconciles the Gateway it belongs to (AnnotationGateway: the objects live in the
// operator's namespace, where the Gateway cannot own them). They cannot be set up with
// the controller: the informer of a kind whose API is missing never syncs, and
// cert-manager may be installed after the operator starts. The cache is one of the
// operator's namespace only, where the operator's Role lets it read these kinds.
type certManagerWatch struct {
	controller controller.Controller
	cache      cache.Cache
	handler    handler.EventHandler

	mu      sync.Mutex
	watched map[string]bool
}

// start adds the watches not added yet. Without a controller (a reconciler not set up
// with a manager) it does nothing.
func (w *certManagerWatch) start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.controller == nil {
		return nil
	}
	for _, kind := range []string{certs.KindIssuer, certs.KindCertificate} {
		if w.watched[kind] {
			continue
		}
		// Not their status, which cert-manager updates while issuing.
		changed := predicate.GenerationChangedPredicate{}
		if err := w.controller.Watch(source.Kind[client.Object](w.cache, certManagerMetadata(kind), w.handler, changed)); err != nil {
			return fmt.Errorf("watching cert-manager %ss: %w", kind, err)
		}
		if w.watched == nil {
			w.watched = map[string]bool{}
		}
		w.watched[kind] = true
	}
	return nil
}

// seen reports whether the watches were added: a Gateway found cert-manager installed.
func (w *certManagerWatch) seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watched) > 0
}

// certManagerMetadata is the metadata-only object of a cert-manager kind.
func certManagerMetadata(kind string) *metav1.PartialObjectMetadata {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(schema.GroupVersionKind{Group: certs.CertManagerGroup, Version: "v1", Kind: kind})
	return obj
}

// ensureBuiltInSecrets issues, or renews, the per-Gateway CA, the admin-proxy's server
// certificate and the operator's client certificate, in the operator's namespace. It
// returns the function that reissues a leaf with the current CA, which ensureTrust calls
// when the CA changed.
func (r *GatewayReconciler) ensureBuiltInSecrets(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec) (func(context.Context, string) error, error) {
	n := certs.NamesFor(gw.Namespace, gw.Name)
	now := time.Now()
	duration, renewBefore := certs.DefaultDuration, certs.DefaultRenewBefore
	if tls != nil && tls.Duration != nil {
		duration = tls.Duration.Duration
	}
	if tls != nil && tls.RenewBefore != nil {
		renewBefore = tls.RenewBefore.Duration
	}
	caData, err := r.ensureSecret(ctx, gw, n.CA, certs.CARenewBefore, false, func() (map[string][]byte, error) {
		ca, err := certs.NewCA("caddy-admin-ca", certs.IssueOptions{Now: now})
		if err != nil {
			return nil, err
		}
		return certs.SecretData(ca, ca), nil
	})
	if err != nil {
		return nil, err
	}
	ca, err := certs.ParseKeyPair(caData[certs.SecretCertKey], caData[certs.SecretKeyKey])
	if err != nil {
		return nil, fmt.Errorf("built-in CA of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	opts := certs.IssueOptions{Now: now, Duration: duration}
	issue := map[string]func() (map[string][]byte, error){
		n.Server: func() (map[string][]byte, error) {
			return leafData(ca)(ca.IssueServer(certs.ServerName(gw.Name, gw.Namespace), opts))
		},
		n.Client: func() (map[string][]byte, error) {
			return leafData(ca)(ca.IssueGatewayClient(gw.Namespace, gw.Name, opts))
		},
	}
	for _, name := range []string{n.Server, n.Client} {
		if _, err := r.ensureSecret(ctx, gw, name, renewBefore, false, issue[name]); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, name string) error {
		_, err := r.ensureSecret(ctx, gw, name, renewBefore, true, issue[name])
		return err
	}, nil
}

// leafData returns the Secret data of a leaf issued by ca.
func leafData(ca *certs.KeyPair) func(*certs.KeyPair, error) (map[string][]byte, error) {
	return func(kp *certs.KeyPair, err error) (map[string][]byte, error) {
		if err != nil {
			return nil, err
		}
		return certs.SecretData(kp, ca), nil
	}
}

// ensureSecret returns the data of a TLS Secret of gw in the operator's namespace,
// issuing it when it is missing, due for renewal or force is set.
func (r *GatewayReconciler) ensureSecret(ctx context.Context, gw *gwapiv1.Gateway, name string, renewBefore time.Duration,
	force bool, issue func() (map[string][]byte, error)) (data map[string][]byte, err error) {
	ns := r.Operator.Namespace
	var s corev1.Secret
	err = r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	}
	exists := err == nil
	if exists && !force {
		if due, _ := certs.NeedsRenewal(s.Data, time.Now(), renewBefore); !due {
			return s.Data, nil
		}
	}
	if data, err = issue(); err != nil {
		return nil, fmt.Errorf("issuing %s: %w", name, err)
	}
	s.ObjectMeta = metav1.ObjectMeta{
		Name: name, Namespace: ns, Labels: adminLabels(gw),
		Annotations: withControllerName(adminAnnotations(gw), r.ControllerName), ResourceVersion: s.ResourceVersion,
	}
	s.Type, s.Data = corev1.SecretTypeTLS, data
	if err := r.writeSecret(ctx, &s, exists); err != nil {
		return nil, err
	}
	r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, "Issued", "IssueCertificate", "Issued admin certificate Secret %s", name)
	return data, nil
}

func ownerRef(gw *gwapiv1.Gateway) *metav1.OwnerReference {
	return &metav1.OwnerReference{
		APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway", Name: gw.Name, UID: gw.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// writeSecret creates s, or updates it when it exists.
func (r *GatewayReconciler) writeSecret(ctx context.Context, s *corev1.Secret, exists bool) error {
	var err error
	if exists {
		err = r.Update(ctx, s)
	} else {
		err = r.Create(ctx, s)
	}
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		return fmt.Errorf("secret %s/%s changed concurrently: %w", s.Namespace, s.Name, err)
	}
	if err != nil {
		return fmt.Errorf("writing Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
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

// adminLabels are the labels of the admin objects in the operator's namespace: certLabels
// and those that tie them to gw (certs.LabelGatewayUID, certs.LabelGatewayNamespace).
func adminLabels(gw *gwapiv1.Gateway) map[string]string {
	l := certLabels(gw)
	l[certs.LabelGatewayUID] = string(gw.UID)
	l[certs.LabelGatewayNamespace] = gw.Namespace
	return l
}

// adminAnnotations are the annotations of the admin objects in the operator's namespace:
// spec.infrastructure.annotations and certs.AnnotationGateway.
func adminAnnotations(gw *gwapiv1.Gateway) map[string]string {
	a := infraAnnotations(gw)
	if a == nil {
		a = map[string]string{}
	}
	a[certs.AnnotationGateway] = gw.Namespace + "/" + gw.Name
	return a
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

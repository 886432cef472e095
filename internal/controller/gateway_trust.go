package controller

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
)

// DefaultMountGrace is how long a new trust bundle is given to reach the Caddy pods before
// the operator's client certificate is reissued by a new CA. A pod sees a changed Secret
// only when the kubelet refreshes the volume (its sync period, a minute by default, plus
// jitter); until then it trusts the bundle it has, which lacks the new CA.
const DefaultMountGrace = 2 * time.Minute

// AnnotationTrustChangedAt records, on the trust Secret, when its bundle last changed.
const AnnotationTrustChangedAt = "caddygateway.io/trust-changed-at"

// trustOptions say how a Gateway's admin certificates are issued.
type trustOptions struct {
	// caSecret: the CA's own Secret (names.CA) is in the operator's namespace (default
	// chain, built-in CA); with an issuerRef the CA is known only from the leaves' ca.crt.
	caSecret bool
	// reissue has the leaf Secret name issued again by the newest CA.
	reissue func(ctx context.Context, name string) error
}

// ensureTrust keeps gw's trust bundle (certs.TrustBundle) in its Secret in the operator's
// namespace, has the leaves that do not chain to the newest CA reissued — the server's at
// once, the operator's client certificate once the bundle with the new CA had
// MountGrace to reach the pods — and copies the server certificate with the bundle into
// the Gateway's namespace. It returns when to look again (a client reissue waiting).
func (r *GatewayReconciler) ensureTrust(ctx context.Context, gw *gwapiv1.Gateway, o trustOptions) (time.Duration, error) {
	n := certs.NamesFor(gw.Namespace, gw.Name)
	secrets := map[string]*corev1.Secret{}
	for _, name := range []string{n.CA, n.Server, n.Client, n.Trust} {
		s, err := r.operatorSecret(ctx, name)
		if err != nil {
			return 0, err
		}
		secrets[name] = s
	}
	var observed [][]byte
	if o.caSecret {
		observed = append(observed, secrets[n.CA].Data[certs.SecretCertKey])
	}
	observed = append(observed, secrets[n.Server].Data[certs.SecretCAKey], secrets[n.Client].Data[certs.SecretCAKey])
	now := time.Now()
	trust := secrets[n.Trust]
	bundle := certs.TrustBundle(trust.Data[certs.SecretCAKey], observed, now)
	if len(bundle) == 0 {
		return 0, nil // nothing issued yet
	}
	changedAt, err := r.writeTrust(ctx, gw, trust, bundle, now)
	if err != nil {
		return 0, err
	}
	wait, err := r.reissueOutdated(ctx, secrets, n, certs.NewestCA(observed...), now.Sub(changedAt), o)
	if err != nil {
		return 0, err
	}
	return wait, r.copyServerSecret(ctx, gw, secrets[n.Server], bundle)
}

// operatorSecret reads a Secret of the operator's namespace; a missing one is returned
// empty, without a ResourceVersion.
func (r *GatewayReconciler) operatorSecret(ctx context.Context, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: r.Operator.Namespace, Name: name}, s)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", r.Operator.Namespace, name, err)
	}
	if err != nil {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.Operator.Namespace, Name: name}}, nil
	}
	return s, nil
}

// writeTrust writes bundle into the trust Secret when it changed and returns when the
// bundle last changed.
func (r *GatewayReconciler) writeTrust(ctx context.Context, gw *gwapiv1.Gateway, trust *corev1.Secret, bundle []byte, now time.Time) (time.Time, error) {
	changedAt, err := time.Parse(time.RFC3339, trust.Annotations[AnnotationTrustChangedAt])
	if err == nil && bytes.Equal(trust.Data[certs.SecretCAKey], bundle) {
		return changedAt, nil
	}
	exists := trust.ResourceVersion != ""
	annotations := withControllerName(adminAnnotations(gw), r.ControllerName)
	annotations[AnnotationTrustChangedAt] = now.UTC().Format(time.RFC3339)
	trust.ObjectMeta = metav1.ObjectMeta{Name: trust.Name, Namespace: trust.Namespace, Labels: adminLabels(gw),
		Annotations: annotations, ResourceVersion: trust.ResourceVersion}
	trust.Type, trust.Data = corev1.SecretTypeOpaque, map[string][]byte{certs.SecretCAKey: bundle}
	if err := r.writeSecret(ctx, trust, exists); err != nil {
		return time.Time{}, err
	}
	return now.Truncate(time.Second), nil
}

// reissueOutdated has the server and client leaves that do not chain to newest reissued;
// the client's only when the bundle has been unchanged for the mount grace (sinceChange),
// else it returns the time left.
func (r *GatewayReconciler) reissueOutdated(ctx context.Context, secrets map[string]*corev1.Secret, n certs.Names,
	newest []byte, sinceChange time.Duration, o trustOptions) (time.Duration, error) {
	if o.reissue == nil || len(newest) == 0 {
		return 0, nil
	}
	var wait time.Duration
	for _, name := range []string{n.Server, n.Client} {
		leaf := secrets[name].Data[certs.SecretCertKey]
		if len(leaf) == 0 || certs.ChainsTo(leaf, newest, time.Now()) {
			continue
		}
		if grace := r.mountGrace(); name == n.Client && sinceChange < grace {
			wait = grace - sinceChange
			continue
		}
		if err := o.reissue(ctx, name); err != nil {
			return 0, err
		}
	}
	return wait, nil
}

func (r *GatewayReconciler) mountGrace() time.Duration {
	if r.MountGrace > 0 {
		return r.MountGrace
	}
	return DefaultMountGrace
}

// copyServerSecret writes into gw's namespace the Secret its pods mount: the server
// certificate and key, and the bundle as ca.crt. Never a CA key. It waits for a server
// certificate whose key matches.
func (r *GatewayReconciler) copyServerSecret(ctx context.Context, gw *gwapiv1.Gateway, server *corev1.Secret, bundle []byte) error {
	crt, key := server.Data[certs.SecretCertKey], server.Data[certs.SecretKeyKey]
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil // not issued (completely) yet; the Secret's change reconciles again
	}
	want := map[string][]byte{certs.SecretCertKey: crt, certs.SecretKeyKey: key, certs.SecretCAKey: bundle}
	var cp corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: certs.ServerSecret(gw.Name)}, &cp)
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("reading Secret %s/%s: %w", gw.Namespace, certs.ServerSecret(gw.Name), err)
	}
	exists := err == nil
	labels, annotations := certLabels(gw), withControllerName(infraAnnotations(gw), r.ControllerName)
	if exists && maps.EqualFunc(cp.Data, want, bytes.Equal) && maps.Equal(cp.Labels, labels) &&
		maps.Equal(cp.Annotations, annotations) && metav1.IsControlledBy(&cp, gw) {
		return nil
	}
	cp.ObjectMeta = metav1.ObjectMeta{Name: certs.ServerSecret(gw.Name), Namespace: gw.Namespace, Labels: labels,
		Annotations: annotations, OwnerReferences: []metav1.OwnerReference{*ownerRef(gw)}, ResourceVersion: cp.ResourceVersion}
	cp.Type, cp.Data = corev1.SecretTypeTLS, want
	return r.writeSecret(ctx, &cp, exists)
}

// reissueCertificate has cert-manager issue the Certificate name of the operator's
// namespace again, the way `cmctl renew` does: it sets the Issuing condition through the
// status subresource. A Certificate already issuing is left alone.
func (r *GatewayReconciler) reissueCertificate(ctx context.Context, name string) error {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(certs.CertManagerAPIVersion)
	u.SetKind(certs.KindCertificate)
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: r.Operator.Namespace, Name: name}, u); err != nil {
		return client.IgnoreNotFound(err)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Issuing" && m["status"] == "True" {
			return nil
		}
	}
	conds = append(conds, map[string]any{
		"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
		"message":            "The admin channel's CA changed: reissuing with the current CA",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": u.GetGeneration(),
	})
	if err := unstructured.SetNestedSlice(u.Object, conds, "status", "conditions"); err != nil {
		return err
	}
	if err := r.Status().Update(ctx, u); err != nil {
		return fmt.Errorf("triggering the reissue of Certificate %s/%s: %w", r.Operator.Namespace, name, err)
	}
	return nil
}

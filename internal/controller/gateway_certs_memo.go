package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
)

// adminCertsTTL is the longest an outcome of the check of a Gateway's admin Secrets is
// reused.
const adminCertsTTL = time.Minute

// adminCertsMemo remembers, per Gateway, the outcome of the last full check of its admin
// Secrets (issue or renewal, trust bundle, reissue of outdated leaves, the copy in the
// Gateway's namespace) and everything it depended on: the Gateway's UID and generation
// (names, labels and annotations of what is written), the admin TLS spec, whether
// cert-manager issues, and the resourceVersions of the Secrets the check reads. While
// they are the same, and until the clock reaches a moment where an answer of the check
// could change (a renewal point, a certificate's validity, the mount grace; at most
// adminCertsTTL), the check would find nothing to do and return the same: a reconcile
// for a route change parses no certificate.
type adminCertsMemo struct {
	perGateway[adminCertsEntry]
}

// adminCertsKey is what the check of a Gateway's admin Secrets depends on beside the clock.
type adminCertsKey struct {
	uid         types.UID
	generation  int64
	tls         string
	certManager bool
	// versions are the resourceVersions of the CA, server, client and trust Secrets in
	// the operator's namespace and of the server Secret in the Gateway's ("" when missing).
	versions [5]string
}

type adminCertsEntry struct {
	key adminCertsKey
	// recheckAt is when the check asked to look again; zero when it did not.
	recheckAt time.Time
	// expires is when the outcome may no longer hold.
	expires time.Time
}

// outcome returns the recheck of the outcome recorded for gw under key, counted from now.
func (m *adminCertsMemo) outcome(gw types.NamespacedName, key adminCertsKey, now time.Time) (time.Duration, bool) {
	e, ok := m.load(gw)
	if !ok || e.key != key || !now.Before(e.expires) {
		return 0, false
	}
	if e.recheckAt.IsZero() {
		return 0, true
	}
	return e.recheckAt.Sub(now), true
}

func (m *adminCertsMemo) record(gw types.NamespacedName, e adminCertsEntry) { m.store(gw, e) }

// adminCheck is one full check of a Gateway's admin Secrets.
type adminCheck struct {
	reissued bool
}

// noting is reissue, noting that the check had a leaf reissued: cert-manager does it
// without a change to the Secrets, and it must be asked again until it has.
func (c *adminCheck) noting(reissue func(context.Context, string) error) func(context.Context, string) error {
	return func(ctx context.Context, name string) error {
		c.reissued = true
		return reissue(ctx, name)
	}
}

// checkAdminSecrets runs check, the full check of gw's admin Secrets, unless the memo
// holds its outcome for the inputs as they are now, and returns its recheck.
func (r *GatewayReconciler) checkAdminSecrets(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec,
	certManager bool, check func(*adminCheck) (time.Duration, error)) (time.Duration, error) {
	key, secrets, err := r.adminCertsKey(ctx, gw, tls, certManager)
	if err != nil {
		return 0, err
	}
	name := client.ObjectKeyFromObject(gw)
	now := time.Now()
	if recheck, ok := r.adminCerts.outcome(name, key, now); ok {
		return recheck, nil
	}
	if r.observeWork != nil {
		r.observeWork(workAdminCertificates)
	}
	var c adminCheck
	recheck, err := check(&c)
	if err != nil || c.reissued {
		return recheck, err
	}
	e := adminCertsEntry{key: key, expires: adminCertsExpiry(secrets, renewBeforeOf(tls), now)}
	if recheck > 0 {
		e.recheckAt = now.Add(recheck)
		e.expires = earliest(e.expires, e.recheckAt)
	}
	r.adminCerts.record(name, e)
	return recheck, nil
}

// workAdminCertificates and workAdminClientTLS name, for observeWork, a full check of a
// Gateway's admin Secrets and a build of its admin client TLS configuration.
const (
	workAdminCertificates = "check admin certificates"
	workAdminClientTLS    = "build admin client TLS"
)

// adminCertsKey reads, from the cache, the Secrets the check of gw's admin Secrets reads,
// and returns the key of its outcome and those of the operator's namespace.
func (r *GatewayReconciler) adminCertsKey(ctx context.Context, gw *gwapiv1.Gateway, tls *v1alpha1.AdminTLSSpec,
	certManager bool) (adminCertsKey, []*corev1.Secret, error) {
	spec, err := hashJSON(tls)
	if err != nil {
		return adminCertsKey{}, nil, fmt.Errorf("hashing spec.controlPlane.tls: %w", err)
	}
	key := adminCertsKey{uid: gw.UID, generation: gw.Generation, tls: spec, certManager: certManager}
	n := certs.NamesFor(gw.Namespace, gw.Name)
	secrets := make([]*corev1.Secret, 0, 4)
	for i, name := range []string{n.CA, n.Server, n.Client, n.Trust} {
		s, err := r.operatorSecret(ctx, name)
		if err != nil {
			return adminCertsKey{}, nil, err
		}
		key.versions[i] = s.ResourceVersion
		secrets = append(secrets, s)
	}
	var cp corev1.Secret
	err = r.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: certs.ServerSecret(gw.Name)}, &cp)
	if client.IgnoreNotFound(err) != nil {
		return adminCertsKey{}, nil, fmt.Errorf("reading Secret %s/%s: %w", gw.Namespace, certs.ServerSecret(gw.Name), err)
	}
	key.versions[4] = cp.ResourceVersion
	return key, secrets, nil
}

// renewBeforeOf is how long before expiry the built-in CA renews the leaves under tls.
func renewBeforeOf(tls *v1alpha1.AdminTLSSpec) time.Duration {
	if tls != nil && tls.RenewBefore != nil {
		return tls.RenewBefore.Duration
	}
	return certs.DefaultRenewBefore
}

// adminCertsExpiry is the earliest moment after now at which an answer the check of the
// admin Secrets gets from the clock could change, at most adminCertsTTL away: for every
// certificate in the Secrets, the start and the end of its validity (chains verified,
// expired CAs pruned from the trust bundle) and its renewal points under renewBefore,
// certs.CARenewBefore and a third of its lifetime (certs.NeedsRenewal).
func adminCertsExpiry(secrets []*corev1.Secret, renewBefore time.Duration, now time.Time) time.Time {
	at := now.Add(adminCertsTTL)
	consider := func(t time.Time) {
		if t.After(now) {
			at = earliest(at, t)
		}
	}
	for _, s := range secrets {
		for _, k := range []string{certs.SecretCertKey, certs.SecretCAKey} {
			for _, c := range certs.ParseCertificates(s.Data[k]) {
				consider(c.NotBefore)
				consider(c.NotAfter)
				lifetime := c.NotAfter.Sub(c.NotBefore)
				for _, before := range []time.Duration{renewBefore, certs.CARenewBefore, 0} {
					if before <= 0 || before >= lifetime {
						before = lifetime / 3
					}
					consider(c.NotAfter.Add(-before))
				}
			}
		}
	}
	return at
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

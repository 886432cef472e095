package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/certs"
)

// The outcome of a check of the admin Secrets expires at the first moment an answer of
// the clock could change, a minute at most.
func TestAdminCertsExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca := func(t *testing.T, issued time.Time, d time.Duration) *certs.KeyPair {
		kp, err := certs.NewCA("ca", certs.IssueOptions{Now: issued, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	leaf := func(t *testing.T, issued time.Time, d time.Duration) (*corev1.Secret, *certs.KeyPair) {
		root := ca(t, now.Add(-time.Hour), 0)
		kp, err := root.IssueServer("server", certs.IssueOptions{Now: issued, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		return &corev1.Secret{Data: certs.SecretData(kp, root)}, kp
	}
	tests := map[string]struct {
		renewBefore time.Duration
		// secrets returns the Secrets and the expiry they must give.
		secrets func(t *testing.T) ([]*corev1.Secret, time.Time)
	}{
		"nothing due within a minute": {certs.DefaultRenewBefore, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			s, _ := leaf(t, now, 0)
			return []*corev1.Secret{s}, now.Add(adminCertsTTL)
		}},
		"a leaf's renewal point": {time.Hour - 30*time.Second, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			s, _ := leaf(t, now, time.Hour)
			return []*corev1.Secret{s}, now.Add(30 * time.Second)
		}},
		"a third of a leaf's lifetime": {certs.DefaultRenewBefore, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			s, kp := leaf(t, now, 3*time.Minute)
			c := kp.Cert
			return []*corev1.Secret{s}, c.NotAfter.Add(-c.NotAfter.Sub(c.NotBefore) / 3)
		}},
		"the CA's renewal point": {certs.DefaultRenewBefore, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			kp := ca(t, now, certs.CARenewBefore+40*time.Second)
			return []*corev1.Secret{{Data: certs.SecretData(kp, kp)}}, now.Add(40 * time.Second)
		}},
		"a CA not valid yet": {certs.DefaultRenewBefore, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			// Issued with NotBefore backdated by certs' five minutes.
			later := ca(t, now.Add(5*time.Minute+20*time.Second), 0)
			return []*corev1.Secret{{Data: map[string][]byte{certs.SecretCAKey: later.CertPEM}}}, now.Add(20 * time.Second)
		}},
		"a trusted CA's end": {certs.DefaultRenewBefore, func(t *testing.T) ([]*corev1.Secret, time.Time) {
			old := ca(t, now.Add(-certs.CADuration+30*time.Second), 0)
			return []*corev1.Secret{{Data: map[string][]byte{certs.SecretCAKey: old.CertPEM}}}, now.Add(30 * time.Second)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			secrets, want := tc.secrets(t)
			if !want.After(now) || want.After(now.Add(adminCertsTTL)) {
				t.Fatalf("the case's expiry %s is not within the minute after %s", want, now)
			}
			if got := adminCertsExpiry(secrets, tc.renewBefore, now); !got.Equal(want) {
				t.Errorf("expiry %s, want %s", got, want)
			}
		})
	}
}

// A recorded outcome serves its key until it expires, with the recheck counted down to
// its deadline.
func TestAdminCertsMemoOutcome(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gw := types.NamespacedName{Namespace: "infra", Name: "web"}
	key := adminCertsKey{uid: "u", generation: 1, tls: "h", versions: [5]string{"1", "2", "3", "4", "5"}}
	var m adminCertsMemo
	m.record(gw, adminCertsEntry{key: key, recheckAt: now.Add(10 * time.Second), expires: now.Add(10 * time.Second)})
	if got, ok := m.outcome(gw, key, now.Add(4*time.Second)); !ok || got != 6*time.Second {
		t.Errorf("outcome 4s later: %v, %v; want 6s, true", got, ok)
	}
	if _, ok := m.outcome(gw, key, now.Add(10*time.Second)); ok {
		t.Error("an outcome is served at its expiry")
	}
	other := key
	other.versions[2] = "9"
	if _, ok := m.outcome(gw, other, now); ok {
		t.Error("an outcome is served for another Secret version")
	}
	m.forget(gw)
	if _, ok := m.outcome(gw, key, now); ok {
		t.Error("a forgotten outcome is served")
	}
}

// countingMapper finds no kind, counting the lookups.
type countingMapper struct {
	meta.RESTMapper
	lookups int
}

func (m *countingMapper) RESTMapping(gk schema.GroupKind, _ ...string) (*meta.RESTMapping, error) {
	m.lookups++
	return nil, &meta.NoKindMatchError{GroupKind: gk}
}

// mapperClient is a client whose RESTMapper is mapper.
type mapperClient struct {
	client.Client
	mapper meta.RESTMapper
}

func (c mapperClient) RESTMapper() meta.RESTMapper { return c.mapper }

// cert-manager's API found missing is not looked up again for a minute, then it is.
func TestCertManagerAbsenceTrustedForAMinute(t *testing.T) {
	m := &countingMapper{}
	r := &GatewayReconciler{Client: mapperClient{mapper: m}}
	for range 3 {
		if installed, err := r.certManagerInstalled(); installed || err != nil {
			t.Fatalf("installed %v, %v; want false, nil", installed, err)
		}
	}
	if m.lookups != 1 {
		t.Errorf("three reconciles looked cert-manager up %d times, want 1", m.lookups)
	}
	r.certManagerAbsent.record(time.Now().Add(-certManagerRecheck))
	if _, err := r.certManagerInstalled(); err != nil {
		t.Fatal(err)
	}
	if m.lookups != 2 {
		t.Errorf("a reconcile a minute after cert-manager was found missing did not look it up again (%d lookups)", m.lookups)
	}
}

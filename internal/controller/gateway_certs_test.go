package controller_test

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
)

// TestGatewayRenewsBuiltInCertificates replaces a Secret of the built-in CA with a
// certificate that is due for renewal: the operator issues a new one, and renewing the
// CA reissues the certificates it signed.
func TestGatewayRenewsBuiltInCertificates(t *testing.T) {
	t.Parallel()
	daysAgo := func(d int) time.Time { return time.Now().Add(-time.Duration(d) * 24 * time.Hour) }
	tests := map[string]struct {
		tls *v1alpha1.AdminTLSSpec
		// replace names the Secret (of certs.Names) to replace.
		replace func(certs.Names) string
		// expiring issues its replacement, signed by ca unless it is the CA itself.
		expiring func(ca *certs.KeyPair, serverName string) (*certs.KeyPair, error)
		// lifetime is the validity the renewed server certificate must have.
		lifetime time.Duration
	}{
		"server certificate within the default renewBefore": {
			replace: func(n certs.Names) string { return n.Server },
			expiring: func(ca *certs.KeyPair, serverName string) (*certs.KeyPair, error) {
				// 10 days left of the default 90: inside the default 30-day renewBefore.
				return ca.IssueServer(serverName, certs.IssueOptions{Now: daysAgo(80)})
			},
			lifetime: certs.DefaultDuration,
		},
		"client certificate within a configured renewBefore": {
			tls: &v1alpha1.AdminTLSSpec{
				Duration: &metav1.Duration{Duration: 2 * time.Hour}, RenewBefore: &metav1.Duration{Duration: time.Hour}},
			replace: func(n certs.Names) string { return n.Client },
			expiring: func(ca *certs.KeyPair, _ string) (*certs.KeyPair, error) {
				// 30 minutes left: inside the configured hour.
				return ca.IssueClient(certs.IssueOptions{Now: time.Now().Add(-90 * time.Minute), Duration: 2 * time.Hour})
			},
			lifetime: 2 * time.Hour,
		},
		"CA within its renewBefore": {
			replace: func(n certs.Names) string { return n.CA },
			expiring: func(*certs.KeyPair, string) (*certs.KeyPair, error) {
				// 100 days left of ten years: inside the CA's one-year renewBefore.
				return certs.NewCA("caddy-admin-ca", certs.IssueOptions{Now: time.Now().Add(100*24*time.Hour - certs.CADuration)})
			},
			lifetime: certs.DefaultDuration,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var spec v1alpha1.CaddyProxyConfigSpec
			if tc.tls != nil {
				spec.ControlPlane = &v1alpha1.ControlPlaneSpec{TLS: tc.tls}
			}
			f := newFixture(t, spec)
			n := f.admin()
			ca := keyPair(t, waitFor(t, adminKey(n.CA), &corev1.Secret{}, exists))
			target := waitFor(t, adminKey(tc.replace(n)), &corev1.Secret{}, exists)
			old := keyPair(t, target)

			expiring, err := tc.expiring(ca, certs.ServerName(f.gateway.Name, f.ns))
			if err != nil {
				t.Fatal(err)
			}
			issuer := ca
			if expiring.Cert.IsCA {
				issuer = expiring
			}
			// The update alone triggers a reconcile: the Secret names its Gateway.
			update(t, target, func(s *corev1.Secret) { s.Data = certs.SecretData(expiring, issuer) })

			renewed := waitFor(t, client.ObjectKeyFromObject(target), &corev1.Secret{}, func(s *corev1.Secret) error {
				serial := keyPair(t, s).Cert.SerialNumber
				if serial.Cmp(expiring.Cert.SerialNumber) == 0 || serial.Cmp(old.Cert.SerialNumber) == 0 {
					return fmt.Errorf("secret %s still holds serial %s", s.Name, serial)
				}
				return nil
			})
			if due, why := certs.NeedsRenewal(renewed.Data, time.Now(), certs.DefaultRenewBefore); due && tc.tls == nil {
				t.Errorf("renewed Secret %s is due for renewal again: %s", renewed.Name, why)
			}
			// Whatever was renewed, the server and client certificates chain to the current CA
			// (the client's after the mount grace when the CA changed).
			ca = keyPair(t, waitFor(t, adminKey(n.CA), &corev1.Secret{}, exists))
			for _, name := range []string{n.Server, n.Client} {
				waitFor(t, adminKey(name), &corev1.Secret{}, func(s *corev1.Secret) error {
					kp := keyPair(t, s)
					if string(s.Data[certs.SecretCAKey]) != string(ca.CertPEM) {
						return fmt.Errorf("ca.crt of Secret %s is not the current CA", name)
					}
					roots := x509.NewCertPool()
					roots.AddCert(ca.Cert)
					if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
						return fmt.Errorf("secret %s does not chain to the current CA: %w", name, err)
					}
					if got := time.Until(kp.Cert.NotAfter); got > tc.lifetime || got < tc.lifetime-10*time.Minute {
						return fmt.Errorf("secret %s expires in %s, want about %s", name, got, tc.lifetime)
					}
					return nil
				})
			}
			// The pods' copy holds the current server certificate and a bundle led by the
			// current CA; after a CA change it still trusts the previous CA too.
			server := waitFor(t, adminKey(n.Server), &corev1.Secret{}, exists)
			cp := checkServerCopy(t, f, server, ca.CertPEM)
			if got := strings.Count(string(cp.Data[certs.SecretCAKey]), "BEGIN CERTIFICATE"); expiring.Cert.IsCA && got != 2 {
				t.Errorf("after a CA change the trust bundle holds %d CAs, want the current and the previous", got)
			}
			assertSettled(t, renewed)
		})
	}
}

// keyPair parses the certificate and key of a TLS Secret.
func keyPair(t *testing.T, s *corev1.Secret) *certs.KeyPair {
	t.Helper()
	kp, err := certs.ParseKeyPair(s.Data[certs.SecretCertKey], s.Data[certs.SecretKeyKey])
	if err != nil {
		t.Fatalf("Secret %s: %v", s.Name, err)
	}
	return kp
}

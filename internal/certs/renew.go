package certs

import (
	"crypto/x509"
	"fmt"
	"time"
)

// NeedsRenewal reports whether the Secret data (tls.crt, tls.key, ca.crt) must be issued
// again at now, and why. It must when a key is missing or unparsable, the key does not
// match the certificate, the certificate does not chain to ca.crt, or it expires within
// renewBefore. Like cert-manager, a renewBefore not shorter than the certificate's
// lifetime is replaced by a third of the lifetime. The reason never contains Secret data.
func NeedsRenewal(data map[string][]byte, now time.Time, renewBefore time.Duration) (bool, string) {
	for _, k := range []string{SecretCertKey, SecretKeyKey, SecretCAKey} {
		if len(data[k]) == 0 {
			return true, fmt.Sprintf("%s is missing", k)
		}
	}
	kp, err := ParseKeyPair(data[SecretCertKey], data[SecretKeyKey])
	if err != nil {
		return true, fmt.Sprintf("%s/%s: %v", SecretCertKey, SecretKeyKey, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data[SecretCAKey]) {
		return true, SecretCAKey + " holds no certificate"
	}
	if _, err := kp.Cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return true, fmt.Sprintf("%s does not verify against %s: %v", SecretCertKey, SecretCAKey, err)
	}
	lifetime := kp.Cert.NotAfter.Sub(kp.Cert.NotBefore)
	if renewBefore <= 0 || renewBefore >= lifetime {
		renewBefore = lifetime / 3
	}
	if renewAt := kp.Cert.NotAfter.Add(-renewBefore); !now.Before(renewAt) {
		return true, fmt.Sprintf("certificate expires at %s, renewal due since %s",
			kp.Cert.NotAfter.UTC().Format(time.RFC3339), renewAt.UTC().Format(time.RFC3339))
	}
	return false, ""
}

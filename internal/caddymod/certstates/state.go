package certstates

import (
	"time"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// Event is what the recorder takes from one certificate event.
type Event struct {
	// Name is the event's name: cert_obtaining, cert_obtained, cert_failed or
	// cert_ocsp_revoked.
	Name string
	// Identifier is the certificate's hostname.
	Identifier string
	// NotAfter is the expiry of the obtained certificate (cert_obtained).
	NotAfter time.Time
	// Error is the CA's message (cert_failed) or the revocation (cert_ocsp_revoked).
	Error string
}

// Next is the state of a certificate after e at now, from its previous state (nil when
// none was recorded), and whether it must be written. A renewal under way leaves a
// certificate Valid while the one held has not expired, and a retry leaves it Failing
// until an order succeeds, so that conditions do not flap with every attempt.
func Next(prev *acmestore.CertificateState, e Event, now time.Time) (acmestore.CertificateState, bool) {
	held := time.Time{}
	if prev != nil && prev.NotAfter.After(now) {
		held = prev.NotAfter
	}
	next := acmestore.CertificateState{Name: e.Identifier, NotAfter: held, Updated: now}
	switch e.Name {
	case "cert_obtaining":
		if prev != nil && (prev.Phase != acmestore.Valid || !held.IsZero()) {
			return *prev, false
		}
		next.Phase = acmestore.Obtaining
	case "cert_obtained":
		next.Phase, next.NotAfter = acmestore.Valid, e.NotAfter
	case "cert_failed", "cert_ocsp_revoked":
		next.Phase, next.Error = acmestore.Failing, e.Error
	default:
		if prev != nil {
			return *prev, false
		}
		return acmestore.CertificateState{}, false
	}
	return next, true
}

package translator

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/status"
)

// Bounds of the AutomaticCertificates condition's message: a CA's message is cut to
// maxCAMessage runes, and the names past maxMessage bytes are counted, not listed.
const (
	maxCAMessage = 512
	maxMessage   = 8192
)

// automaticNames are the hostnames whose certificates listener l obtains: its exact
// hostname, or on demand the exact hostnames of its attached routes, sorted.
func (l *listener) automaticNames() []string {
	if !l.automatic.OnDemand {
		return l.automatic.Names
	}
	var out []string
	for _, ar := range l.routes.all() {
		for _, h := range ar.hostnames {
			if h != "" && !strings.HasPrefix(h, "*") {
				out = append(out, h)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// automaticCondition reports the recorded states (Input.CertificateStates) of the
// certificates of listener l: Failing when one fails, else Obtaining when one is being
// obtained, else Pending when one has no record, else Valid; the message gives each
// name's state.
func (t *translation) automaticCondition(l *listener, gen int64) metav1.Condition {
	names := l.automaticNames()
	if len(names) == 0 {
		return status.ListenerCertificatesPending(gen, fmt.Sprintf(
			"certificates are obtained on demand for the exact hostnames of attached routes under %s; no attached route has one yet",
			orAny(l.hostname)))
	}
	worst := acmestore.Valid
	var pending bool
	parts := make([]string, len(names))
	for i, name := range names {
		st, ok := t.in.CertificateStates[name]
		if !ok {
			pending = true
			parts[i] = name + ": not obtained yet"
			if t.in.ACMEOrdersHeld && !l.automatic.OnDemand {
				parts[i] += ", waiting for a ready Caddy pod the CA's validation can reach"
			}
			continue
		}
		parts[i] = name + ": " + stateText(st)
		if st.Phase == acmestore.Failing || (st.Phase == acmestore.Obtaining && worst == acmestore.Valid) {
			worst = st.Phase
		}
	}
	msg := boundedJoin(parts)
	switch {
	case worst == acmestore.Failing:
		return status.ListenerCertificatesFailing(gen, msg)
	case worst == acmestore.Obtaining:
		return status.ListenerCertificatesObtaining(gen, msg)
	case pending:
		return status.ListenerCertificatesPending(gen, msg)
	}
	return status.ListenerCertificatesValid(gen, msg)
}

// stateText says where one certificate stands.
func stateText(st acmestore.CertificateState) string {
	held := ""
	if !st.NotAfter.IsZero() {
		held = "valid until " + st.NotAfter.UTC().Format(time.RFC3339)
	}
	switch st.Phase {
	case acmestore.Valid:
		return held
	case acmestore.Failing:
		msg := "failing: " + truncateRunes(st.Error, maxCAMessage)
		if held != "" {
			msg += " (the certificate " + held + " is served meanwhile)"
		}
		return msg
	case acmestore.Obtaining:
		return "obtaining"
	}
	return fmt.Sprintf("unknown state %q", truncateRunes(string(st.Phase), 64))
}

// boundedJoin joins parts with "; ", counting those past maxMessage bytes; the first
// is always listed (each is bounded by maxCAMessage).
func boundedJoin(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && b.Len()+len(p) > maxMessage {
			fmt.Fprintf(&b, "; and %d more", len(parts)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// truncateRunes cuts s to at most n runes, marking the cut.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// orAny names a listener hostname, or any hostname when empty.
func orAny(host string) string {
	if host == "" {
		return "any hostname"
	}
	return host
}

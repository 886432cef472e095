package translator

import (
	"fmt"
	"slices"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// Listener tls.options of ours (implementation-specific keys under optionDomain).
const (
	optionDomain = "caddygateway.io/"
	// OptionAutomaticCertificates "true" makes an HTTPS listener obtain its certificate
	// over ACME when its certificateRefs are empty or do not resolve.
	OptionAutomaticCertificates = optionDomain + "automatic-certificates"
	// OptionOnDemand "true" lets an HTTPS listener with a wildcard (or no) hostname
	// obtain a certificate at the first handshake for the exact hostname of an attached
	// route.
	OptionOnDemand = optionDomain + "on-demand"
)

// automaticOptions are what a listener's tls.options ask of automatic certificates.
type automaticOptions struct {
	automatic, onDemand bool
}

// checkTLSOptions reads the listener's tls.options of our domain (keys of other domains
// are not ours and are left alone); an unknown key of ours, a value other than "true"
// or "false", or automatic certificates asked of a listener that is not HTTPS refuses
// the listener (UnsupportedValue) with a message naming the option.
func (t *translation) checkTLSOptions(l *listener) {
	if l.spec.TLS == nil {
		return
	}
	keys := make([]string, 0, len(l.spec.TLS.Options))
	for k := range l.spec.TLS.Options {
		if strings.HasPrefix(string(k), optionDomain) {
			keys = append(keys, string(k))
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := string(l.spec.TLS.Options[gwapiv1.AnnotationKey(k)])
		field := fmt.Sprintf("spec.listeners[%d].tls.options[%s]", l.index, k)
		on, ok := v == "true", v == "true" || v == "false"
		switch {
		case k != OptionAutomaticCertificates && k != OptionOnDemand:
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, fmt.Sprintf("%s: unknown option; supported: %s, %s",
				field, OptionAutomaticCertificates, OptionOnDemand))
		case !ok:
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, fmt.Sprintf("%s: %q is not a valid value; use \"true\" or \"false\"", field, v))
		case on && l.spec.Protocol != gwapiv1.HTTPSProtocolType:
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, fmt.Sprintf("%s: automatic certificates are served on HTTPS listeners only, not on a %s listener",
				field, l.spec.Protocol))
		case k == OptionAutomaticCertificates:
			l.options.automatic = on
		default:
			l.options.onDemand = on
		}
	}
	if l.options.onDemand && !l.options.automatic {
		l.reject(gwapiv1.ListenerReasonUnsupportedValue, fmt.Sprintf("spec.listeners[%d].tls.options[%s]: on-demand issuance needs %s: \"true\"",
			l.index, OptionOnDemand, OptionAutomaticCertificates))
	}
}

// checkAutomaticHostname refuses a listener that needs an automatic certificate for a
// wildcard (or empty) hostname not served on demand: an ACME wildcard certificate needs
// the DNS-01 challenge, which the Gateway does not answer.
func (l *listener) checkAutomaticHostname() {
	if l.options.onDemand || !isWildcardOrEmpty(l.hostname) {
		return
	}
	host := l.hostname
	if host == "" {
		host = "a listener without a hostname"
	}
	l.reject(gwapiv1.ListenerReasonUnsupportedValue, fmt.Sprintf(
		"spec.listeners[%d].hostname: automatic certificates for %s need %s: \"true\" (a wildcard certificate needs the DNS-01 challenge, which is not supported)",
		l.index, host, OptionOnDemand))
}

// resolveAutomatic decides, once every listener is built and its conflicts marked,
// which listeners obtain automatic certificates and how (t.acme): a listener asking for
// them whose certificateRefs resolve presents those and obtains nothing; the others are
// served with automatic certificates when their hostname is exact or served on demand
// and the Gateway can answer a challenge spec.acme allows (else they are refused,
// UnsupportedValue), and when spec.acme's references resolve
// (else ResolvedRefs is False and they are not served). The Gateway's challenges are
// those every such listener can answer.
func (t *translation) resolveAutomatic() {
	var acme *ir.ACME
	var problem string
	resolved := false
	var challenges []string
	http80 := t.hasHTTPListenerOn80()
	for _, l := range t.listeners {
		if !l.accepted || !l.options.automatic || len(l.certs) > 0 {
			continue
		}
		if l.checkAutomaticHostname(); !l.accepted {
			continue
		}
		answerable, why := t.answerableChallenges(l, http80)
		if len(answerable) == 0 {
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, why)
			continue
		}
		if !resolved {
			acme, problem = t.resolveACME()
			resolved = true
		}
		if acme == nil {
			l.badRef(gwapiv1.ListenerReasonInvalidCertificateRef, "automatic certificates: "+problem)
			continue
		}
		l.automatic = &ir.AutomaticCertificates{OnDemand: l.options.onDemand && isWildcardOrEmpty(l.hostname)}
		if !l.automatic.OnDemand {
			l.automatic.Names = []string{l.hostname}
		}
		if challenges == nil {
			challenges = slices.Clone(answerable)
		} else {
			challenges = slices.DeleteFunc(challenges, func(c string) bool { return !slices.Contains(answerable, c) })
		}
	}
	if challenges != nil {
		acme.Challenges = challenges
		t.acme = acme
	}
}

// isWildcardOrEmpty reports whether a listener hostname is a wildcard or empty.
func isWildcardOrEmpty(host string) bool {
	return host == "" || strings.HasPrefix(host, "*")
}

// answerableChallenges are the challenges of spec.acme (both by default) the Gateway
// can answer for listener l, in the order of ir.ACMEChallenge*: HTTP-01 with an accepted
// HTTP listener on port 80 (http80), TLS-ALPN-01 when l is on port 443. When none is
// left, why says what is missing.
func (t *translation) answerableChallenges(l *listener, http80 bool) ([]string, string) {
	allowHTTP, allowALPN := t.allowedChallenges()
	var out []string
	if allowHTTP && http80 {
		out = append(out, ir.ACMEChallengeHTTP01)
	}
	if allowALPN && l.spec.Port == 443 {
		out = append(out, ir.ACMEChallengeTLSALPN01)
	}
	if len(out) > 0 {
		return out, ""
	}
	var missing []string
	if allowHTTP {
		missing = append(missing, "HTTP-01 needs an HTTP listener on port 80 of the Gateway, which it has not")
	}
	if allowALPN {
		missing = append(missing, fmt.Sprintf("TLS-ALPN-01 needs this listener on port 443, not %d", l.spec.Port))
	}
	return nil, fmt.Sprintf("automatic certificates: no challenge the Gateway can answer: %s (CaddyProxyConfig spec.acme.challenges allows %s)",
		strings.Join(missing, "; "), t.allowedChallengesText())
}

// hasHTTPListenerOn80 reports whether an accepted HTTP listener (the Gateway's or a
// ListenerSet's) is on port 80, where the CA sends HTTP-01 requests.
func (t *translation) hasHTTPListenerOn80() bool {
	return slices.ContainsFunc(t.listeners, func(l *listener) bool {
		return l.accepted && l.spec.Protocol == gwapiv1.HTTPProtocolType && l.spec.Port == 80
	})
}

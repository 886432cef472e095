package translator_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

const automaticGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default, generation: 1}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - name: exact
    port: 443
    protocol: HTTPS
    hostname: app.example.com
    tls: {options: {caddygateway.io/automatic-certificates: "true"}}
  - name: wild
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls: {options: {caddygateway.io/automatic-certificates: "true", caddygateway.io/on-demand: "true"}}
`

// automaticCondition translates in and returns the AutomaticCertificates condition of
// listener name.
func automaticCondition(t *testing.T, in translator.Input, name string) metav1.Condition {
	t.Helper()
	for _, l := range translator.Translate(in).Listeners {
		if string(l.Name) != name {
			continue
		}
		for _, c := range l.Conditions {
			if c.Type == status.ListenerConditionAutomaticCertificates {
				return c
			}
		}
	}
	t.Fatalf("listener %s has no %s condition", name, status.ListenerConditionAutomaticCertificates)
	return metav1.Condition{}
}

// TestAutomaticConditionMessageIsBounded: a CA's message is cut, and an on-demand
// listener with thousands of route hostnames lists as many as fit and counts the rest,
// so that the condition stays far below the API's 32768-byte limit of a message.
func TestAutomaticConditionMessageIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(automaticGateway)
	const routes = 2000
	for i := range routes {
		fmt.Fprintf(&b, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r%d, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: wild}]
  hostnames: [host-%04d.example.com]
`, i, i)
	}
	in, err := fixture.Load([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	in.CertificateStates = map[string]acmestore.CertificateState{
		"app.example.com": {Name: "app.example.com", Phase: acmestore.Failing, Error: strings.Repeat("é", 3000)},
	}
	exact := automaticCondition(t, in, "exact")
	if exact.Reason != status.ReasonCertificatesFailing || utf8.RuneCountInString(exact.Message) > 600 || !utf8.ValidString(exact.Message) ||
		!strings.HasPrefix(exact.Message, "app.example.com: failing: ééé") || !strings.HasSuffix(exact.Message, "é…") {
		t.Errorf("exact: reason %s, %d runes (valid UTF-8: %v), starts %q; want Failing naming the host, with the CA's message cut to about 512 runes",
			exact.Reason, utf8.RuneCountInString(exact.Message), utf8.ValidString(exact.Message), string([]rune(exact.Message)[:min(40, utf8.RuneCountInString(exact.Message))]))
	}
	wild := automaticCondition(t, in, "wild")
	if wild.Reason != status.ReasonCertificatesPending || len(wild.Message) > 8300 || !strings.HasSuffix(wild.Message, " more") ||
		!strings.HasPrefix(wild.Message, "host-0000.example.com: not obtained yet; host-0001.example.com") {
		t.Errorf("wild: reason %s, %d bytes, ends %q; want Pending, names in order, at most ~8 KiB ending with a count",
			wild.Reason, len(wild.Message), wild.Message[max(0, len(wild.Message)-40):])
	}
}

// TestAutomaticConditionOrdersHeld: while no Caddy pod is ready (ACMEOrdersHeld), the
// exact listener stays Pending and says its name waits for a ready pod; an on-demand
// route hostname, which is not held, does not.
func TestAutomaticConditionOrdersHeld(t *testing.T) {
	in, err := fixture.Load([]byte(automaticGateway + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: wild}]
  hostnames: [a.example.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	in.ACMEOrdersHeld = true
	const waits = "app.example.com: not obtained yet, waiting for a ready Caddy pod the CA's validation can reach"
	if c := automaticCondition(t, in, "exact"); c.Status != metav1.ConditionUnknown || c.Reason != status.ReasonCertificatesPending || c.Message != waits {
		t.Errorf("exact: %s/%s %q, want Unknown/%s %q", c.Status, c.Reason, c.Message, status.ReasonCertificatesPending, waits)
	}
	if c := automaticCondition(t, in, "wild"); c.Message != "a.example.com: not obtained yet" {
		t.Errorf("wild: message %q, want the on-demand name not obtained yet", c.Message)
	}
	in.ACMEOrdersHeld = false
	if c := automaticCondition(t, in, "exact"); c.Message != "app.example.com: not obtained yet" {
		t.Errorf("exact without the hold: message %q", c.Message)
	}
}

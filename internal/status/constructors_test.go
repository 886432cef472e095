package status_test

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

func TestRouteListenerAndAncestorConstructors(t *testing.T) {
	c := func(typ string, s metav1.ConditionStatus, reason, message string, gen int64) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message, ObservedGeneration: gen}
	}
	tests := map[string]struct {
		got  metav1.Condition
		want metav1.Condition
	}{
		"route accepted, default message": {
			got:  status.RouteAccepted(2, gwapiv1.RouteReasonAccepted, ""),
			want: c("Accepted", "True", "Accepted", "Route is accepted", 2),
		},
		"route accepted keeps its message": {
			got:  status.RouteAccepted(2, gwapiv1.RouteReasonAccepted, "lost example.com"),
			want: c("Accepted", "True", "Accepted", "lost example.com", 2),
		},
		"route not accepted": {
			got:  status.RouteAccepted(3, gwapiv1.RouteReasonNotAllowedByListeners, "why"),
			want: c("Accepted", "False", "NotAllowedByListeners", "why", 3),
		},
		"route not accepted keeps an empty message": {
			got:  status.RouteAccepted(3, gwapiv1.RouteReasonNoMatchingParent, ""),
			want: c("Accepted", "False", "NoMatchingParent", "", 3),
		},
		"route refs resolved, default message": {
			got:  status.RouteResolvedRefs(4, gwapiv1.RouteReasonResolvedRefs, ""),
			want: c("ResolvedRefs", "True", "ResolvedRefs", "All references are resolved", 4),
		},
		"route refs not resolved": {
			got:  status.RouteResolvedRefs(4, gwapiv1.RouteReasonBackendNotFound, "no svc"),
			want: c("ResolvedRefs", "False", "BackendNotFound", "no svc", 4),
		},
		"route refs not resolved keeps an empty message": {
			got:  status.RouteResolvedRefs(4, gwapiv1.RouteReasonRefNotPermitted, ""),
			want: c("ResolvedRefs", "False", "RefNotPermitted", "", 4),
		},
		"listener automatic certificates valid": {
			got:  status.ListenerCertificatesValid(7, "a.example.com: valid until 2027-03-01T00:00:00Z"),
			want: c("caddygateway.io/AutomaticCertificates", "True", "Valid", "a.example.com: valid until 2027-03-01T00:00:00Z", 7),
		},
		"listener automatic certificates obtaining": {
			got:  status.ListenerCertificatesObtaining(7, "a.example.com: obtaining"),
			want: c("caddygateway.io/AutomaticCertificates", "False", "Obtaining", "a.example.com: obtaining", 7),
		},
		"listener automatic certificates failing": {
			got:  status.ListenerCertificatesFailing(7, "a.example.com: failing: rate limited"),
			want: c("caddygateway.io/AutomaticCertificates", "False", "Failing", "a.example.com: failing: rate limited", 7),
		},
		"listener automatic certificates pending": {
			got:  status.ListenerCertificatesPending(7, "a.example.com: not obtained yet"),
			want: c("caddygateway.io/AutomaticCertificates", "Unknown", "Pending", "a.example.com: not obtained yet", 7),
		},
		"listener accepted, default message": {
			got:  status.ListenerAccepted(5, gwapiv1.ListenerReasonAccepted, ""),
			want: c("Accepted", "True", "Accepted", "Listener is accepted", 5),
		},
		"listener not accepted": {
			got:  status.ListenerAccepted(5, gwapiv1.ListenerReasonUnsupportedProtocol, "no UDP"),
			want: c("Accepted", "False", "UnsupportedProtocol", "no UDP", 5),
		},
		"listener refs resolved, default message": {
			got:  status.ListenerResolvedRefs(6, gwapiv1.ListenerReasonResolvedRefs, ""),
			want: c("ResolvedRefs", "True", "ResolvedRefs", "All references are resolved", 6),
		},
		"listener refs not resolved": {
			got:  status.ListenerResolvedRefs(6, gwapiv1.ListenerReasonInvalidCertificateRef, "no secret"),
			want: c("ResolvedRefs", "False", "InvalidCertificateRef", "no secret", 6),
		},
		"listener refs not resolved, default message": {
			got:  status.ListenerResolvedRefs(6, gwapiv1.ListenerReasonInvalidCertificateRef, ""),
			want: c("ResolvedRefs", "False", "InvalidCertificateRef", "All references are resolved", 6),
		},
		"listener without conflicts, default message": {
			got:  status.ListenerConflicted(7, gwapiv1.ListenerReasonNoConflicts, ""),
			want: c("Conflicted", "False", "NoConflicts", "No conflicts", 7),
		},
		"listener conflicted": {
			got:  status.ListenerConflicted(7, gwapiv1.ListenerReasonHostnameConflict, "port 80"),
			want: c("Conflicted", "True", "HostnameConflict", "port 80", 7),
		},
		"listener programmed follows the gateway": {
			got:  status.ListenerProgrammed(status.GatewayProgrammed(8, 2, 2), true),
			want: c("Programmed", "True", "Programmed", "2/2 pods programmed", 8),
		},
		"listener not programmed follows the gateway": {
			got:  status.ListenerProgrammed(status.GatewayNotProgrammed(8, gwapiv1.GatewayReasonPending, "1/2 pods programmed"), true),
			want: c("Programmed", "False", "Pending", "1/2 pods programmed", 8),
		},
		"listener not accepted is not programmed": {
			got:  status.ListenerProgrammed(status.GatewayProgrammed(8, 2, 2), false),
			want: c("Programmed", "False", "Invalid", "the listener is not accepted", 8),
		},
		"listener set accepted, default message": {
			got:  status.ListenerSetAccepted(16, gwapiv1.ListenerSetReasonAccepted, ""),
			want: c("Accepted", "True", "Accepted", "ListenerSet is accepted", 16),
		},
		"listener set not allowed": {
			got:  status.ListenerSetAccepted(16, gwapiv1.ListenerSetReasonNotAllowed, "from: None"),
			want: c("Accepted", "False", "NotAllowed", "from: None", 16),
		},
		"listener set programmed follows the gateway, with its own generation": {
			got: status.ListenerSetProgrammed(status.ListenerSetAccepted(16, gwapiv1.ListenerSetReasonAccepted, ""),
				status.GatewayProgrammed(8, 2, 2)),
			want: c("Programmed", "True", "Programmed", "2/2 pods programmed", 16),
		},
		"listener set pending while the gateway is": {
			got: status.ListenerSetProgrammed(status.ListenerSetAccepted(16, gwapiv1.ListenerSetReasonAccepted, ""),
				status.GatewayNotProgrammed(8, gwapiv1.GatewayReasonPending, "1/2 pods programmed")),
			want: c("Programmed", "False", "Pending", "1/2 pods programmed", 16),
		},
		"listener set not accepted is not programmed, for the same reason": {
			got: status.ListenerSetProgrammed(status.ListenerSetAccepted(16, gwapiv1.ListenerSetReasonListenersNotValid, "none valid"),
				status.GatewayProgrammed(8, 2, 2)),
			want: c("Programmed", "False", "ListenersNotValid", "none valid", 16),
		},
		"listener set listener conflicted is not programmed, for its conflict": {
			got: status.ListenerEntryProgrammed(status.ListenerAccepted(16, gwapiv1.ListenerReasonHostnameConflict, "port 80"),
				status.GatewayProgrammed(8, 2, 2)),
			want: c("Programmed", "False", "HostnameConflict", "port 80", 16),
		},
		"listener set listener programmed follows the gateway": {
			got: status.ListenerEntryProgrammed(status.ListenerAccepted(16, gwapiv1.ListenerReasonAccepted, ""),
				status.GatewayProgrammed(8, 2, 2)),
			want: c("Programmed", "True", "Programmed", "2/2 pods programmed", 16),
		},
		"gateway programmed": {
			got:  status.GatewayProgrammed(9, 3, 3),
			want: c("Programmed", "True", "Programmed", "3/3 pods programmed", 9),
		},
		"gateway insecure frontend validation": {
			got: status.GatewayInsecureFrontendValidation(10, []string{"spec.tls.frontend.default", "spec.tls.frontend.perPort[0] (port 443)"}),
			want: c("InsecureFrontendValidationMode", "True", "ConfigurationChanged",
				"client certificate validation mode AllowInsecureFallback is set in spec.tls.frontend.default and "+
					"spec.tls.frontend.perPort[0] (port 443): HTTPS connections without a valid client certificate are "+
					"accepted, and authorizing clients is left to the backends", 10),
		},
		"policy accepted, default message": {
			got:  status.PolicyAccepted(13, gwapiv1.PolicyReasonAccepted, ""),
			want: c("Accepted", "True", "Accepted", "Policy is accepted", 13),
		},
		"policy conflicted": {
			got:  status.PolicyAccepted(13, gwapiv1.PolicyReasonConflicted, "older ns/p wins"),
			want: c("Accepted", "False", "Conflicted", "older ns/p wins", 13),
		},
		"policy refs resolved, default message": {
			got:  status.PolicyResolvedRefs(14, gwapiv1.BackendTLSPolicyReasonResolvedRefs, ""),
			want: c("ResolvedRefs", "True", "ResolvedRefs", "All references are resolved", 14),
		},
		"policy refs of an invalid kind": {
			got:  status.PolicyResolvedRefs(14, gwapiv1.BackendTLSPolicyReasonInvalidKind, "kind Secret"),
			want: c("ResolvedRefs", "False", "InvalidKind", "kind Secret", 14),
		},
		"gateway refs resolved, default message": {
			got:  status.GatewayResolvedRefs(15, gwapiv1.GatewayReasonResolvedRefs, ""),
			want: c("ResolvedRefs", "True", "ResolvedRefs", "All references are resolved", 15),
		},
		"gateway client certificate not permitted": {
			got:  status.GatewayResolvedRefs(15, gwapiv1.GatewayReasonRefNotPermitted, "no grant"),
			want: c("ResolvedRefs", "False", "RefNotPermitted", "no grant", 15),
		},
		"ancestor accepted": {
			got:  status.AncestorAccepted(11, nil),
			want: c("Accepted", "True", "Accepted", "CaddyProxyConfig is valid", 11),
		},
		"ancestor with invalid parameters": {
			got:  status.AncestorAccepted(12, errors.New("spec.x: bad")),
			want: c("Accepted", "False", "InvalidParameters", "spec.x: bad", 12),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %+v, want %+v", tc.got, tc.want)
			}
		})
	}
}

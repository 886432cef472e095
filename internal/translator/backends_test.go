package translator

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// TestWeightedBackendsByKind runs the one weighted-backend resolver with the rules of
// each kind: the kinds differ only in the protocol, the port check and the status of a
// rule without a usable backend.
func TestWeightedBackendsByKind(t *testing.T) {
	port := func(appProtocol string) corev1.ServicePort {
		p := corev1.ServicePort{Port: 80}
		if appProtocol != "" {
			p.AppProtocol = &appProtocol
		}
		return p
	}
	svc := func(name, ip, appProtocol string) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
			Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{port(appProtocol)}}}
	}
	in := Input{Gateway: &gwapiv1.Gateway{}, Services: []corev1.Service{
		svc("plain", "10.0.0.1", ""), svc("h2c", "10.0.0.2", "kubernetes.io/h2c"), svc("h1", "10.0.0.3", "http"),
	}}
	type ref struct {
		name   string
		weight int32
	}
	for name, tc := range map[string]struct {
		rules *backendRules
		refs  []ref
		// want lists address/weight of each backend ("invalid" for Invalid ones).
		want                string
		protocol            ir.BackendProtocol
		status              int
		refReason, problems string
	}{
		"HTTP takes the port's protocol": {rules: &httpBackends, refs: []ref{{"h2c", 1}, {"h2c", 3}},
			want: "10.0.0.2:80/1 10.0.0.2:80/3", protocol: ir.ProtocolH2C, refReason: "ResolvedRefs"},
		"HTTP backends of one rule share a protocol": {rules: &httpBackends, refs: []ref{{"plain", 1}, {"h2c", 1}},
			want: "10.0.0.1:80/1 10.0.0.2:80/1", protocol: ir.ProtocolH2C, refReason: "ResolvedRefs",
			problems: "rules[0].backendRefs[1]: backends of one rule must share an application protocol (found HTTP/1.1 and h2c)"},
		"HTTP without a usable backend answers 500": {rules: &httpBackends, refs: []ref{{"missing", 1}},
			status: 500, refReason: "BackendNotFound"},
		"gRPC always speaks h2c": {rules: &grpcBackends, refs: []ref{{"plain", 2}, {"h2c", 0}},
			want: "10.0.0.1:80/2", protocol: ir.ProtocolH2C, refReason: "ResolvedRefs"},
		"gRPC refuses an HTTP/1.1 port and answers 503": {rules: &grpcBackends, refs: []ref{{"h1", 1}},
			protocol: ir.ProtocolH2C, status: grpcUnavailable, refReason: "UnsupportedProtocol"},
		"gRPC keeps the valid share": {rules: &grpcBackends, refs: []ref{{"h1", 1}, {"h2c", 1}},
			want: "invalid/1 10.0.0.2:80/1", protocol: ir.ProtocolH2C, refReason: "UnsupportedProtocol"},
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTranslation(in)
			var a ir.Action
			st := checkedRules{refReason: gwapiv1.RouteReasonResolvedRefs}
			var bad problems
			w := tr.weightedBackends(weightedBackends{rules: tc.rules, a: &a, st: &st, bad: &bad}, len(tc.refs))
			for i, r := range tc.refs {
				p := gwapiv1.PortNumber(80)
				w.add("app", &gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
					Name: gwapiv1.ObjectName(r.name), Port: &p}, Weight: &r.weight}, i)
			}
			w.finish()
			var got []string
			for _, b := range a.Backends {
				addr := b.Address
				if b.Invalid {
					addr = "invalid"
				}
				got = append(got, fmt.Sprintf("%s/%d", addr, b.Weight))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("backends %q, want %q", g, tc.want)
			}
			if a.BackendProtocol != tc.protocol || a.DirectStatus != tc.status {
				t.Errorf("protocol %q and status %d, want %q and %d", a.BackendProtocol, a.DirectStatus, tc.protocol, tc.status)
			}
			if string(st.refReason) != tc.refReason {
				t.Errorf("ResolvedRefs reason %s (%s), want %s", st.refReason, st.refMsg, tc.refReason)
			}
			if p := strings.Join(bad, "; "); p != tc.problems {
				t.Errorf("problems %q, want %q", p, tc.problems)
			}
		})
	}
}

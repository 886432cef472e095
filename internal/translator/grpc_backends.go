package translator

import (
	"fmt"
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// grpcUnavailable is the HTTP status answered for gRPC requests without a usable
// backend: gRPC clients map HTTP 503 to UNAVAILABLE, the status the GRPCRoute spec
// requires for invalid backendRefs.
const grpcUnavailable = 503

// resolveGRPCBackends fills a GRPCRoute rule's backends like resolveBackends does for
// HTTPRoutes. Backends always speak HTTP/2: h2c (prior knowledge) unless the Service
// port's appProtocol says something else, which is checked by grpcAppProtocol.
func (t *translation) resolveGRPCBackends(routeNS string, refs []gwapiv1.GRPCBackendRef, a *ir.Action, st *checkedRules, ruleIdx int, bad *problems) {
	a.Backends = make([]ir.Backend, 0, len(refs))
	a.BackendProtocol = ir.ProtocolH2C
	for i := range refs {
		ref := &refs[i]
		var filters *ir.BackendFilters
		if len(ref.Filters) > 0 {
			filters = t.convertGRPCBackendFilters(routeNS, ref.Filters, fmt.Sprintf("rules[%d].backendRefs[%d]", ruleIdx, i), st, bad)
		}
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		res := t.resolveBackendFrom(kindGRPCRoute, routeNS, &ref.BackendObjectReference)
		if res.reason == "" {
			if problem := grpcAppProtocol(t.portAppProtocol(routeNS, &ref.BackendObjectReference)); problem != "" {
				res = resolved{reason: gwapiv1.RouteReasonUnsupportedProtocol,
					msg: fmt.Sprintf("Service %s port %d: %s", backendName(routeNS, &ref.BackendObjectReference), deref32(ref.Port), problem)}
			}
		}
		if res.reason != "" && st.refReason == gwapiv1.RouteReasonResolvedRefs {
			st.refReason, st.refMsg = res.reason, res.msg
		}
		if weight <= 0 {
			continue
		}
		b := ir.Backend{Address: res.addr, Weight: weight, Invalid: res.reason != ""}
		if !b.Invalid {
			b.Filters = filters
		}
		a.Backends = append(a.Backends, b)
	}
	for _, b := range a.Backends {
		if !b.Invalid {
			return
		}
	}
	a.Backends, a.DirectStatus = nil, grpcUnavailable
}

// grpcAppProtocol says why a Service port cannot carry gRPC, or "" when it can. The
// shared resolver already rejected TLS and unknown values; what is left is HTTP/1.1.
func grpcAppProtocol(p *string) string {
	if p == nil {
		return ""
	}
	switch strings.ToLower(*p) {
	case "", "kubernetes.io/h2c":
		return ""
	}
	return fmt.Sprintf("appProtocol %q is HTTP/1.1, which cannot carry gRPC; leave it unset or use kubernetes.io/h2c", *p)
}

// portAppProtocol is the appProtocol of the Service port a resolved reference names.
func (t *translation) portAppProtocol(routeNS string, ref *gwapiv1.BackendObjectReference) *string {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	svc := t.services[nsName{ns, string(ref.Name)}]
	if svc == nil || ref.Port == nil {
		return nil
	}
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == *ref.Port {
			return svc.Spec.Ports[i].AppProtocol
		}
	}
	return nil
}

func backendName(routeNS string, ref *gwapiv1.BackendObjectReference) string {
	if ref.Namespace != nil {
		routeNS = string(*ref.Namespace)
	}
	return routeNS + "/" + string(ref.Name)
}

func deref32(p *gwapiv1.PortNumber) int32 {
	if p == nil {
		return 0
	}
	return *p
}

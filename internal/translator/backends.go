package translator

import (
	"fmt"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// resolveBackends fills a rule's backends. Unresolvable references become Invalid
// backends (500 for their share) and set the route's ResolvedRefs condition; the first
// problem found wins the reason.
func (t *translation) resolveBackends(r *gwapiv1.HTTPRoute, refs []gwapiv1.HTTPBackendRef, a *ir.Action, st *checkedRules, where string, bad *problems) {
	for i, ref := range refs {
		if len(ref.Filters) > 0 {
			bad.addf("%s.backendRefs[%d]: backend filters are not supported by this implementation", where, i)
		}
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		addr, reason, msg := t.resolveBackend(r.Namespace, ref.BackendObjectReference)
		if reason != "" && st.refReason == gwapiv1.RouteReasonResolvedRefs {
			st.refReason, st.refMsg = reason, msg
		}
		if weight <= 0 {
			continue
		}
		a.Backends = append(a.Backends, ir.Backend{Address: addr, Weight: weight, Invalid: reason != ""})
	}
	valid := false
	for _, b := range a.Backends {
		valid = valid || !b.Invalid
	}
	if !valid {
		a.Backends = nil
		a.DirectStatus = 500
	}
}

// resolveBackend returns the dial address of a Service backend, or the ResolvedRefs
// reason and message that say why it cannot be used.
func (t *translation) resolveBackend(routeNS string, ref gwapiv1.BackendObjectReference) (string, gwapiv1.RouteConditionReason, string) {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	full := ns + "/" + string(ref.Name)
	if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Service" {
		g, k := "", "Service"
		if ref.Group != nil {
			g = string(*ref.Group)
		}
		if ref.Kind != nil {
			k = string(*ref.Kind)
		}
		return "", gwapiv1.RouteReasonInvalidKind, fmt.Sprintf("backendRef %s: kind %s/%s is not supported; use core Service", full, g, k)
	}
	if !t.permitted(refGrant{fromGroup: gatewayGroup, fromKind: kindHTTPRoute, fromNS: routeNS,
		toGroup: "", toKind: "Service", toNS: ns, name: string(ref.Name)}) {
		return "", gwapiv1.RouteReasonRefNotPermitted, fmt.Sprintf("backendRef to Service %s is not permitted by any ReferenceGrant", full)
	}
	svc, ok := t.services[nsName{ns, string(ref.Name)}]
	if !ok {
		return "", gwapiv1.RouteReasonBackendNotFound, fmt.Sprintf("Service %s does not exist", full)
	}
	if ref.Port == nil {
		return "", gwapiv1.RouteReasonBackendNotFound, fmt.Sprintf("backendRef to Service %s needs a port", full)
	}
	found := false
	for _, p := range svc.Spec.Ports {
		found = found || p.Port == *ref.Port
	}
	if !found {
		return "", gwapiv1.RouteReasonBackendNotFound, fmt.Sprintf("Service %s has no port %d", full, *ref.Port)
	}
	return fmt.Sprintf("%s.%s.svc.%s:%d", ref.Name, ns, t.domain, *ref.Port), "", ""
}

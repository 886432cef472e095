package translator

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// resolveBackends fills a rule's backends. Unresolvable references become Invalid
// backends (500 for their share) and set the route's ResolvedRefs condition; the first
// problem found wins the reason. Valid backends of one rule must share a protocol,
// because one Caddy reverse_proxy speaks one transport.
func (t *translation) resolveBackends(r *gwapiv1.HTTPRoute, refs []gwapiv1.HTTPBackendRef, ru *rule, st *checkedRules, ruleIdx int, bad *problems) {
	a := &ru.action
	a.Backends = t.backends.take(len(refs))
	protoSet := false
	for i := range refs {
		ref := &refs[i]
		var filters *ir.BackendFilters
		var redirect *gwapiv1.HTTPRequestRedirectFilter
		if len(ref.Filters) > 0 {
			filters, redirect = t.convertBackendFilters(r.Namespace, ref.Filters, ru, fmt.Sprintf("rules[%d].backendRefs[%d]", ruleIdx, i), st, bad)
		}
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		res := t.resolveBackend(r.Namespace, &ref.BackendObjectReference)
		if res.reason != "" && st.refReason == gwapiv1.RouteReasonResolvedRefs {
			st.refReason, st.refMsg = res.reason, res.msg
		}
		if weight <= 0 {
			continue
		}
		if res.reason == "" {
			if protoSet && res.proto != a.BackendProtocol {
				bad.addf("rules[%d].backendRefs[%d]: backends of one rule must share an application protocol (found %s and %s)",
					ruleIdx, i, protocolName(a.BackendProtocol), protocolName(res.proto))
			}
			a.BackendProtocol, protoSet = res.proto, true
		}
		b := ir.Backend{Address: res.addr, Weight: weight, Invalid: res.reason != ""}
		if !b.Invalid {
			b.Filters = filters
			if redirect != nil {
				st.addBackendRedirect(ruleIdx, len(a.Backends), redirect)
			}
		}
		a.Backends = append(a.Backends, b)
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

func protocolName(p ir.BackendProtocol) string {
	if p == ir.ProtocolHTTP {
		return "HTTP/1.1"
	}
	return string(p)
}

// resolved is the outcome of resolving one backend reference.
type resolved struct {
	addr   string
	proto  ir.BackendProtocol
	reason gwapiv1.RouteConditionReason
	msg    string
}

// resolveBackend resolves a reference of an HTTPRoute once per translation; routes
// share backends.
func (t *translation) resolveBackend(routeNS string, ref *gwapiv1.BackendObjectReference) resolved {
	return t.resolveBackendFrom(kindHTTPRoute, routeNS, ref)
}

// resolveBackendFrom resolves a reference of a route of kind routeKind (ReferenceGrants
// name the kind they admit).
func (t *translation) resolveBackendFrom(routeKind, routeNS string, ref *gwapiv1.BackendObjectReference) resolved {
	if ref.Group == nil && ref.Kind == nil && ref.Namespace == nil && ref.Port != nil {
		// A Service port in the route's namespace, the usual reference, resolves alike
		// for every route kind: cached under a smaller key, quicker to hash.
		lk := localServiceKey{ns: routeNS, name: string(ref.Name), port: *ref.Port}
		if r, ok := t.localServices[lk]; ok {
			return r
		}
		r := t.resolveBackendUncached(resolvedKey{routeKind: routeKind, routeNS: routeNS, kind: "Service", ns: routeNS,
			name: lk.name, port: lk.port})
		if t.localServices == nil {
			t.localServices = map[localServiceKey]resolved{}
		}
		t.localServices[lk] = r
		return r
	}
	g, kind, ns, port := "", "Service", routeNS, int32(-1)
	if ref.Port != nil {
		port = *ref.Port
	}
	if ref.Group != nil {
		g = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	key := resolvedKey{routeKind: routeKind, routeNS: routeNS, group: g, kind: kind, ns: ns, name: string(ref.Name), port: port}
	if r, ok := t.backendCache[key]; ok {
		return r
	}
	r := t.resolveBackendUncached(key)
	t.backendCache[key] = r
	return r
}

// localServiceKey is a reference to a Service port in the route's namespace.
type localServiceKey struct {
	ns, name string
	port     int32
}

// resolvedKey is the value form of a backend reference (defaults applied).
type resolvedKey struct {
	routeKind, routeNS, group, kind, ns, name string
	port                                      int32 // -1 when unset
}

func (t *translation) resolveBackendUncached(k resolvedKey) resolved {
	full := k.ns + "/" + k.name
	if k.group != "" || k.kind != "Service" {
		return resolved{reason: gwapiv1.RouteReasonInvalidKind,
			msg: fmt.Sprintf("backendRef %s: kind %s/%s is not supported; use core Service", full, k.group, k.kind)}
	}
	if !t.permitted(refGrant{fromGroup: gatewayGroup, fromKind: k.routeKind, fromNS: k.routeNS,
		toGroup: "", toKind: "Service", toNS: k.ns, name: k.name}) {
		return resolved{reason: gwapiv1.RouteReasonRefNotPermitted,
			msg: fmt.Sprintf("backendRef to Service %s is not permitted by any ReferenceGrant", full)}
	}
	svc, ok := t.services[nsName{k.ns, k.name}]
	if !ok {
		return resolved{reason: gwapiv1.RouteReasonBackendNotFound, msg: fmt.Sprintf("Service %s does not exist", full)}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		// Its name resolves to any host its owner writes, outside the cluster too
		// (CVE-2021-25740); the Gateway API says implementations should not support it.
		return resolved{reason: gwapiv1.RouteReasonInvalidKind,
			msg: fmt.Sprintf("Service %s is of type ExternalName, which is not supported as a backend", full)}
	}
	if k.port < 0 {
		return resolved{reason: gwapiv1.RouteReasonBackendNotFound, msg: fmt.Sprintf("backendRef to Service %s needs a port", full)}
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Port != k.port {
			continue
		}
		proto, problem := appProtocol(p.AppProtocol)
		if problem != "" {
			return resolved{reason: gwapiv1.RouteReasonUnsupportedProtocol,
				msg: fmt.Sprintf("Service %s port %d: %s", full, k.port, problem)}
		}
		return resolved{addr: t.serviceAddress(svc, p, k), proto: proto}
	}
	return resolved{reason: gwapiv1.RouteReasonBackendNotFound, msg: fmt.Sprintf("Service %s has no port %d", full, k.port)}
}

// serviceAddress is where Caddy dials a Service port: its cluster IP, stable for the
// Service's life, so that neither endpoint churn nor DNS (whose lost UDP answers cost
// seconds) is on the request path. A headless Service has no cluster IP and no proxy in
// front of its pods: its cluster DNS name resolves to the endpoints, which listen on the
// port's targetPort. A named targetPort cannot be resolved without the endpoints; the
// Service port is dialled then.
func (t *translation) serviceAddress(svc *corev1.Service, p *corev1.ServicePort, k resolvedKey) string {
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		return net.JoinHostPort(ip, strconv.Itoa(int(k.port)))
	}
	port := k.port
	if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal > 0 {
		port = p.TargetPort.IntVal
	}
	return k.name + "." + k.ns + ".svc." + t.domain + ":" + strconv.Itoa(int(port))
}

// appProtocol maps a Service port's appProtocol to the backend protocol, or says why
// it cannot be served. Recognised: unset, http, kubernetes.io/http, kubernetes.io/ws
// (HTTP/1.1; Caddy proxies upgrades), kubernetes.io/h2c. TLS to backends
// (https, kubernetes.io/wss) needs BackendTLSPolicy, which is not implemented yet.
func appProtocol(p *string) (ir.BackendProtocol, string) {
	if p == nil {
		return ir.ProtocolHTTP, ""
	}
	switch strings.ToLower(*p) {
	case "", "http", "kubernetes.io/http", "kubernetes.io/ws":
		return ir.ProtocolHTTP, ""
	case "kubernetes.io/h2c":
		return ir.ProtocolH2C, ""
	case "https", "kubernetes.io/https", "kubernetes.io/wss":
		return "", fmt.Sprintf("appProtocol %q needs TLS to the backend (BackendTLSPolicy), which this implementation does not support yet", *p)
	}
	return "", fmt.Sprintf("appProtocol %q is not supported; supported: kubernetes.io/h2c, kubernetes.io/ws, http", *p)
}

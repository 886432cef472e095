package translator

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/status"
)

// backendRules are what resolving backendRefs differs in between route kinds.
type backendRules struct {
	// kind is the route kind, which ReferenceGrants name.
	kind string
	// protocol is what every backend of the kind speaks; when empty, the Service port's
	// appProtocol decides, and the valid backends of one rule must agree (one Caddy
	// reverse_proxy speaks one transport).
	protocol ir.BackendProtocol
	// portProblem, when set, says why a resolved Service port's appProtocol cannot
	// carry the kind ("" when it can); tls says the backend is spoken to over TLS.
	portProblem func(appProtocol *string, tls bool) string
	// backendTLS applies the BackendTLSPolicy of a backend's Service port.
	backendTLS bool
	// tlsProblem, when set, says why the kind cannot speak the TLS a policy asks for
	// to a backend ("" when it can); the backend is then invalid.
	tlsProblem func(tls *ir.BackendTLS) string
	// unavailable is the HTTP status answered for a rule without a usable backend.
	unavailable int
	// anyAppProtocol accepts every appProtocol of a Service port: the kind proxies raw
	// bytes, which no application protocol prevents.
	anyAppProtocol bool
	// portProtocol, when set, is the transport protocol the Service port must have
	// (a Service port without one is TCP).
	portProtocol corev1.Protocol
}

// weightedBackends resolves the backendRefs of one rule, one add at a time, into
// the rule's weighted backends. Unresolvable references become Invalid backends (the
// unavailable status for their share) and set the route's ResolvedRefs condition; the
// first problem found wins the reason. A rule left without a valid backend answers
// the unavailable status for all of it (finish).
type weightedBackends struct {
	t     *translation
	rules *backendRules
	// a is the rule's action, which gets the backends.
	a *ir.Action
	// st gets the ResolvedRefs condition, bad the problems of rule ruleIdx.
	st       *checkedRules
	ruleIdx  int
	bad      *problems
	protoSet bool
}

// weightedBackends starts w for n backendRefs.
func (t *translation) weightedBackends(w weightedBackends, n int) weightedBackends {
	w.t = t
	w.a.Backends = t.backends.take(n)
	if w.rules.protocol != "" {
		w.a.BackendProtocol = w.rules.protocol
	}
	return w
}

// add resolves backendRef i of the rule of a route in namespace routeNS. It returns
// the index of its backend in a.Backends, and ok when that backend is valid (then the
// caller adds its filters); a backend of weight 0 gets no entry. routeNS is an argument
// rather than a field of w: add keeps the string, and the compiler would then move
// everything w points to (the caller's rule and problems) to the heap.
func (w *weightedBackends) add(routeNS string, ref *gwapiv1.BackendRef, i int) (at int, ok bool) {
	weight := int32(1)
	if ref.Weight != nil {
		weight = *ref.Weight
	}
	res := w.t.resolveBackendFrom(w.rules.kind, routeNS, &ref.BackendObjectReference)
	if w.rules.anyAppProtocol && res.reason == gwapiv1.RouteReasonUnsupportedProtocol && res.addr != "" {
		res.reason, res.msg = "", ""
	}
	var tls *ir.BackendTLS
	if w.rules.backendTLS {
		tls = w.applyPolicy(&res, routeNS, ref)
	}
	if res.reason == "" && w.rules.portProblem != nil {
		if problem := w.rules.portProblem(w.t.portAppProtocol(routeNS, &ref.BackendObjectReference), tls != nil); problem != "" {
			res = resolved{reason: gwapiv1.RouteReasonUnsupportedProtocol,
				msg: fmt.Sprintf("Service %s port %d: %s", backendName(routeNS, &ref.BackendObjectReference), deref32(ref.Port), problem)}
		}
	}
	if res.reason == "" && w.rules.portProtocol != "" && !w.t.hasPortOf(w.rules.portProtocol, routeNS, &ref.BackendObjectReference) {
		res = resolved{reason: gwapiv1.RouteReasonUnsupportedProtocol,
			msg: fmt.Sprintf("Service %s has no %s port %d; a %s backend needs one", backendName(routeNS, &ref.BackendObjectReference),
				w.rules.portProtocol, deref32(ref.Port), w.rules.kind)}
	}
	if res.reason != "" && w.st.refReason == gwapiv1.RouteReasonResolvedRefs {
		w.st.refReason, w.st.refMsg = res.reason, res.msg
	}
	if weight <= 0 {
		return 0, false
	}
	if res.reason == "" && w.rules.protocol == "" {
		if w.protoSet && res.proto != w.a.BackendProtocol {
			w.bad.addf("rules[%d].backendRefs[%d]: backends of one rule must share an application protocol (found %s and %s)",
				w.ruleIdx, i, protocolName(w.a.BackendProtocol), protocolName(res.proto))
		}
		w.a.BackendProtocol, w.protoSet = res.proto, true
	}
	if res.reason != "" {
		res.addr, tls = "", nil
	}
	w.a.Backends = append(w.a.Backends, ir.Backend{Address: res.addr, Weight: weight, Invalid: res.reason != "", TLS: tls})
	return len(w.a.Backends) - 1, res.reason == ""
}

// applyPolicy applies the BackendTLSPolicy of res's Service port (resolved.applyPolicy)
// and refuses, making res invalid, TLS the route kind cannot speak.
func (w *weightedBackends) applyPolicy(res *resolved, routeNS string, ref *gwapiv1.BackendRef) *ir.BackendTLS {
	tls := res.applyPolicy()
	if tls == nil || w.rules.tlsProblem == nil {
		return tls
	}
	if problem := w.rules.tlsProblem(tls); problem != "" {
		p := res.policy.applied.p
		res.reason, res.msg = status.RouteReasonInvalidBackendTLSPolicy, fmt.Sprintf("Service %s port %d: BackendTLSPolicy %s/%s: %s, "+
			"so the backend gets no connections", backendName(routeNS, &ref.BackendObjectReference), deref32(ref.Port), p.Namespace, p.Name, problem)
		return nil
	}
	return tls
}

// finish makes a rule without a valid backend answer the unavailable status.
func (w *weightedBackends) finish() {
	for _, b := range w.a.Backends {
		if !b.Invalid {
			return
		}
	}
	w.a.Backends, w.a.DirectStatus = nil, w.rules.unavailable
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
	// policy is what BackendTLSPolicies decide for the Service port; nil when none
	// targets it. Route kinds that speak TLS to backends apply it (applyPolicy).
	policy *portPolicy
}

// resolveBackendFrom resolves a reference of a route of kind routeKind (ReferenceGrants
// name the kind they admit).
func (t *translation) resolveBackendFrom(routeKind, routeNS string, ref *gwapiv1.BackendObjectReference) resolved {
	if t.reads != nil {
		ns := routeNS
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		t.noteService(ns, string(ref.Name))
	}
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
		pol := t.portPolicy(k.ns, k.name, p.Name, k.port)
		proto, problem := appProtocol(p.AppProtocol, pol != nil)
		if problem != "" {
			// The address is kept for kinds that accept any appProtocol (anyAppProtocol).
			return resolved{addr: t.serviceAddress(svc, p, k), reason: gwapiv1.RouteReasonUnsupportedProtocol,
				msg: fmt.Sprintf("Service %s port %d: %s", full, k.port, problem), policy: pol}
		}
		return resolved{addr: t.serviceAddress(svc, p, k), proto: proto, policy: pol}
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
// it cannot be served; withPolicy says a BackendTLSPolicy targets the port, which makes
// the backend speak TLS whatever its appProtocol. Recognised: unset, http,
// kubernetes.io/http, kubernetes.io/ws (HTTP/1.1; Caddy proxies upgrades),
// kubernetes.io/h2c (cleartext, so never with a policy); https, kubernetes.io/https and
// kubernetes.io/wss (HTTP/1.1 over TLS) only with a policy, which says how to verify
// the backend: TLS without verification is never spoken.
func appProtocol(p *string, withPolicy bool) (ir.BackendProtocol, string) {
	if p == nil {
		return ir.ProtocolHTTP, ""
	}
	switch strings.ToLower(*p) {
	case "", "http", "kubernetes.io/http", "kubernetes.io/ws":
		return ir.ProtocolHTTP, ""
	case "kubernetes.io/h2c":
		if withPolicy {
			return "", fmt.Sprintf("appProtocol %q is cleartext HTTP/2, but a BackendTLSPolicy makes the port speak TLS", *p)
		}
		return ir.ProtocolH2C, ""
	case "https", "kubernetes.io/https", "kubernetes.io/wss":
		if withPolicy {
			return ir.ProtocolHTTP, ""
		}
		return "", fmt.Sprintf("appProtocol %q needs TLS to the backend: a BackendTLSPolicy targeting this port "+
			"must say how to verify it", *p)
	}
	return "", fmt.Sprintf("appProtocol %q is not supported; supported: kubernetes.io/h2c, kubernetes.io/ws, http", *p)
}

// portAppProtocol is the appProtocol of the Service port a resolved reference names.
func (t *translation) portAppProtocol(routeNS string, ref *gwapiv1.BackendObjectReference) *string {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	t.noteService(ns, string(ref.Name))
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

// hasPortOf reports whether the Service a resolved reference names has a port of the
// reference's number with transport protocol p (a port without one is TCP).
func (t *translation) hasPortOf(p corev1.Protocol, routeNS string, ref *gwapiv1.BackendObjectReference) bool {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	t.noteService(ns, string(ref.Name))
	svc := t.services[nsName{ns, string(ref.Name)}]
	if svc == nil || ref.Port == nil {
		return false
	}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if sp.Port == *ref.Port && cmp.Or(sp.Protocol, corev1.ProtocolTCP) == p {
			return true
		}
	}
	return false
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

package translator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/status"
)

const gatewayGroup = gwapiv1.GroupName

// listener is the translation state of one Gateway listener.
type listener struct {
	spec *gwapiv1.Listener
	// set is the ListenerSet the listener comes from; nil for the Gateway's own.
	set *listenerSet
	// index is the listener's index in its owner's spec.listeners.
	index     int
	hostname  string
	accepted  bool // usable for route attachment
	programOK bool // usable by the data plane (accepted and has what it needs)
	conflict  gwapiv1.ListenerConditionReason
	accReason gwapiv1.ListenerConditionReason
	accMsg    string
	refReason gwapiv1.ListenerConditionReason
	refMsg    string
	kinds     []gwapiv1.RouteGroupKind
	certs     []string
	// validation verifies client certificates (Gateway spec.tls.frontend); nil for none.
	validation *ir.ClientValidation
	// filters are the resolved pre-routing filters (checkFilters).
	filters []ir.RequestFilter
	// options are what tls.options ask of automatic certificates; automatic is set when
	// the listener is served with them (resolveAutomatic).
	options   automaticOptions
	automatic *ir.AutomaticCertificates
	attached  int32
	routes    blocks[attachedRoute]
	// claims are the routes attached so far with their effective hostnames, for
	// HTTPRoute/GRPCRoute hostname conflicts.
	claims []hostClaim
	// claimIdx indexes claims so that conflict checks do not scan every claim.
	claimIdx claimIndex
	// anyHosts are the effective hostnames of the routes with none, and hostBlock holds
	// those of the routes with one (effectiveHosts).
	anyHosts  routeHosts
	hostBlock slab[string]
}

// attachedRoute is a route accepted by a listener, with its effective hostnames.
type attachedRoute struct {
	// hostnames are the effective hostnames; origins the route's own hostname behind
	// each (originHost).
	hostnames, origins []string
	rules              *checkedRules
	// age is the route's rank in (creation time, namespace, name) order.
	age int32
}

func (l *listener) scheme() string {
	if l.spec.Protocol == gwapiv1.HTTPSProtocolType {
		return "https"
	}
	return "http"
}

// buildListeners builds the Gateway's own listeners, then those of the ListenerSets it
// allows, in precedence order, and marks their conflicts.
func (t *translation) buildListeners() {
	for i := range t.gw.Spec.Listeners {
		t.listeners = append(t.listeners, t.newListener(&t.gw.Spec.Listeners[i], nil, i))
	}
	t.buildListenerSets()
	t.markConflicts()
	t.resolveAutomatic()
	for _, l := range t.listeners {
		l.programOK = l.accepted && (!l.needsCertificates() || len(l.certs) > 0 || l.automatic != nil)
	}
}

// newListener checks one listener of the Gateway (set nil) or of a ListenerSet and
// resolves its certificates; index is its index in its owner's spec.listeners.
func (t *translation) newListener(spec *gwapiv1.Listener, set *listenerSet, index int) *listener {
	l := &listener{spec: spec, set: set, index: index, accepted: true, accReason: gwapiv1.ListenerReasonAccepted,
		refReason: gwapiv1.ListenerReasonResolvedRefs}
	if spec.Hostname != nil {
		l.hostname = strings.ToLower(string(*spec.Hostname))
	}
	t.checkProtocol(l)
	t.checkTLSOptions(l)
	t.checkKinds(l)
	t.checkFilters(l)
	if l.accepted && spec.Protocol == gwapiv1.HTTPSProtocolType {
		t.resolveCertificates(l)
		t.resolveClientValidation(l)
	}
	if l.accepted && l.terminatesTLSRoutes() {
		t.resolveCertificates(l)
	}
	return l
}

// namespace is the namespace of the listener's owner (the Gateway or its ListenerSet):
// allowedRoutes "Same" and certificateRefs without a namespace are relative to it.
func (l *listener) namespace(gw *gwapiv1.Gateway) string {
	if l.set != nil {
		return l.set.obj.Namespace
	}
	return gw.Namespace
}

// ownerKind is the kind of the listener's owner, as ReferenceGrants name it.
func (l *listener) ownerKind() string {
	if l.set != nil {
		return listenerSetKind
	}
	return "Gateway"
}

// irName is the listener's name in the IR: its own for a Gateway listener, prefixed by
// its ListenerSet's namespace and name for a set's, whose names may repeat the Gateway's.
func (l *listener) irName() string {
	if l.set != nil {
		return l.set.obj.Namespace + "/" + l.set.obj.Name + "/" + string(l.spec.Name)
	}
	return string(l.spec.Name)
}

func (t *translation) checkProtocol(l *listener) {
	switch l.spec.Protocol {
	case gwapiv1.HTTPProtocolType, gwapiv1.TCPProtocolType, gwapiv1.UDPProtocolType:
	case gwapiv1.HTTPSProtocolType:
		if l.spec.TLS == nil {
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, "HTTPS listener needs tls with certificateRefs")
		} else if l.spec.TLS.Mode != nil && *l.spec.TLS.Mode != gwapiv1.TLSModeTerminate {
			l.reject(gwapiv1.ListenerReasonUnsupportedValue,
				fmt.Sprintf("tls.mode %q is not supported on an HTTPS listener; use Terminate", *l.spec.TLS.Mode))
		}
	case gwapiv1.TLSProtocolType:
		if l.spec.TLS == nil {
			l.reject(gwapiv1.ListenerReasonUnsupportedValue, "TLS listener needs tls with mode Passthrough or Terminate")
		}
	default:
		l.reject(gwapiv1.ListenerReasonUnsupportedProtocol,
			fmt.Sprintf("protocol %q is not supported; supported: HTTP, HTTPS, TLS, TCP, UDP", l.spec.Protocol))
	}
}

// terminatesTLSRoutes reports whether l is a TLS listener in mode Terminate (the API's
// default mode): it presents its certificates and proxies the decrypted bytes.
func (l *listener) terminatesTLSRoutes() bool {
	return l.spec.Protocol == gwapiv1.TLSProtocolType && l.spec.TLS != nil &&
		(l.spec.TLS.Mode == nil || *l.spec.TLS.Mode == gwapiv1.TLSModeTerminate)
}

// needsCertificates reports whether l serves nothing without a usable certificate: an
// HTTPS listener, or a TLS listener in mode Terminate.
func (l *listener) needsCertificates() bool {
	return l.spec.Protocol == gwapiv1.HTTPSProtocolType || l.terminatesTLSRoutes()
}

func (l *listener) reject(reason gwapiv1.ListenerConditionReason, msg string) {
	if !l.accepted {
		return
	}
	l.accepted, l.accReason, l.accMsg = false, reason, msg
}

func (l *listener) badRef(reason gwapiv1.ListenerConditionReason, msg string) {
	if l.refReason == gwapiv1.ListenerReasonResolvedRefs {
		l.refReason, l.refMsg = reason, msg
	}
}

// checkKinds computes supportedKinds and flags kinds this listener cannot serve: the
// kinds whose row in routeKinds names the listener's protocol.
func (t *translation) checkKinds(l *listener) {
	servedKinds := kindsServedOn(l.spec.Protocol)
	if len(servedKinds) == 0 {
		// A listener of a protocol we do not serve supports no route kinds at all.
		l.kinds = []gwapiv1.RouteGroupKind{}
	}
	if l.spec.AllowedRoutes == nil || len(l.spec.AllowedRoutes.Kinds) == 0 {
		for _, k := range servedKinds {
			l.kinds = append(l.kinds, gwapiv1.RouteGroupKind{Group: ptr(gwapiv1.Group(gatewayGroup)), Kind: k})
		}
		return
	}
	var bad []string
	for _, k := range l.spec.AllowedRoutes.Kinds {
		if (k.Group == nil || *k.Group == gatewayGroup) && slices.Contains(servedKinds, k.Kind) {
			if !slices.ContainsFunc(l.kinds, func(o gwapiv1.RouteGroupKind) bool { return o.Kind == k.Kind }) {
				l.kinds = append(l.kinds, gwapiv1.RouteGroupKind{Group: ptr(gwapiv1.Group(gatewayGroup)), Kind: k.Kind})
			}
			continue
		}
		g := ""
		if k.Group != nil {
			g = string(*k.Group)
		}
		bad = append(bad, fmt.Sprintf("%s/%s", g, k.Kind))
	}
	if len(bad) > 0 {
		l.badRef(gwapiv1.ListenerReasonInvalidRouteKinds,
			fmt.Sprintf("route kinds not supported: %s; supported: %s", strings.Join(bad, ", "), supportedKindsText(servedKinds)))
	}
}

// supportedKindsText lists served, or every kind of routeKinds when it is empty (a
// listener of a protocol no kind is served on), with their group.
func supportedKindsText(served []gwapiv1.Kind) string {
	if len(served) == 0 {
		for _, k := range routeKinds {
			served = append(served, gwapiv1.Kind(k.name))
		}
	}
	parts := make([]string, len(served))
	for i, k := range served {
		parts[i] = gatewayGroup + "/" + string(k)
	}
	return strings.Join(parts, ", ")
}

// markConflicts flags listeners sharing a port with another protocol or hostname. A
// TCP listener shares its port with no other listener: Caddy's layer4 app cannot bind a
// port its http app binds, so a TCP listener on an HTTP or HTTPS listener's port is
// conflicted (ProtocolConflict) and the HTTP one keeps serving; TCP connections carry
// no hostname to tell two TCP listeners apart (HostnameConflict, whatever their
// hostnames). TLS listeners (mode Passthrough or Terminate, mixed freely) share a port
// with each other and with HTTPS listeners when their hostnames differ: their
// connections are told apart by server name, and the port is one TLS server that hands
// the connections no TLSRoute takes to the HTTPS listeners. A TLS listener with the
// hostname of another TLS listener on its port is conflicted (HostnameConflict), and so
// is one with the hostname of an HTTPS listener there, which keeps serving. A TLS
// listener on the port of an HTTP or TCP listener is conflicted (ProtocolConflict): the
// HTTP listener keeps serving, and so does the TCP one, as the Gateway API's rule for
// ports shared with TCP says. A UDP listener binds a UDP port, which no TCP, HTTP,
// HTTPS or TLS listener's TCP socket takes, so it shares its port number with them,
// except with an HTTPS listener: Caddy's HTTP/3 (on by default) binds the HTTPS port's
// UDP socket, so a UDP listener there is conflicted (ProtocolConflict) and the HTTPS one
// keeps serving. Two UDP listeners on one port conflict like two TCP ones
// (HostnameConflict).
//
// Listeners of different owners (the Gateway, its ListenerSets) never both lose: a
// ListenerSet's listener yields to every listener before it in precedence order (the
// Gateway's own, then the sets' by age and namespace/name) that it conflicts with in
// either direction and that is not conflicted itself, and the earlier one keeps serving.
func (t *translation) markConflicts() {
	for i, a := range t.listeners {
		for j, b := range t.listeners {
			if i == j || a.spec.Port != b.spec.Port || !servable(a.spec.Protocol) || !servable(b.spec.Protocol) {
				continue
			}
			if a.set != b.set {
				// b, before a, has its conflicts settled: only a listener that keeps its
				// port can hold it against a.
				if i > j && b.conflict == "" {
					a.conflict = cmp.Or(a.conflict, portConflict(a, b), portConflict(b, a))
				}
				continue
			}
			if a.spec.Protocol == gwapiv1.UDPProtocolType || b.spec.Protocol == gwapiv1.UDPProtocolType {
				a.conflict = cmp.Or(a.conflict, udpConflict(a.spec.Protocol, b.spec.Protocol))
				continue
			}
			switch c := tcpPortConflict(a, b); {
			case c == gwapiv1.ListenerReasonProtocolConflict:
				a.conflict = c
			case c != "" && a.conflict == "":
				a.conflict = c
			}
		}
	}
	for _, l := range t.listeners {
		if l.conflict != "" {
			l.reject(l.conflict, fmt.Sprintf("listener conflicts with another listener on port %d (%s)", l.spec.Port, l.conflict))
		}
	}
}

// portConflict is the conflict of listener a with listener b on its port ("" for none):
// see markConflicts.
func portConflict(a, b *listener) gwapiv1.ListenerConditionReason {
	if a.spec.Protocol == gwapiv1.UDPProtocolType || b.spec.Protocol == gwapiv1.UDPProtocolType {
		return udpConflict(a.spec.Protocol, b.spec.Protocol)
	}
	return tcpPortConflict(a, b)
}

// tcpPortConflict is the conflict of listener a with listener b on its port, neither
// of them UDP ("" for none): see markConflicts.
func tcpPortConflict(a, b *listener) gwapiv1.ListenerConditionReason {
	pa, pb := a.spec.Protocol, b.spec.Protocol
	switch {
	case pa == gwapiv1.TLSProtocolType && (pb == gwapiv1.TLSProtocolType || pb == gwapiv1.HTTPSProtocolType):
		if a.hostname == b.hostname {
			return gwapiv1.ListenerReasonHostnameConflict
		}
		return ""
	case pa == gwapiv1.TLSProtocolType:
		// b is HTTP or TCP, which keeps the port.
		return gwapiv1.ListenerReasonProtocolConflict
	case pb == gwapiv1.TLSProtocolType:
		// a is HTTP, HTTPS or TCP, which keeps its port (see the case above).
		return ""
	case pb == gwapiv1.TCPProtocolType && pa != gwapiv1.TCPProtocolType:
		// a wins the port over the TCP listener b.
		return ""
	case pa != pb:
		return gwapiv1.ListenerReasonProtocolConflict
	case a.hostname == b.hostname || pa == gwapiv1.TCPProtocolType:
		return gwapiv1.ListenerReasonHostnameConflict
	}
	return ""
}

// udpConflict is the conflict of a listener of protocol a with a listener of protocol b
// on its port, one of them UDP ("" for none): see markConflicts.
func udpConflict(a, b gwapiv1.ProtocolType) gwapiv1.ListenerConditionReason {
	switch {
	case a != gwapiv1.UDPProtocolType:
		return ""
	case b == gwapiv1.UDPProtocolType:
		return gwapiv1.ListenerReasonHostnameConflict
	case b == gwapiv1.HTTPSProtocolType:
		return gwapiv1.ListenerReasonProtocolConflict
	}
	return ""
}

// listenerStatuses reports every listener of the Gateway's own, in spec order.
func (t *translation) listenerStatuses() []gwapiv1.ListenerStatus {
	out := make([]gwapiv1.ListenerStatus, 0, len(t.gw.Spec.Listeners))
	for _, l := range t.listeners {
		if l.set == nil {
			out = append(out, t.listenerStatus(l, t.gw.Generation))
		}
	}
	return out
}

// listenerStatus reports one listener; gen is the generation of its owner.
func (t *translation) listenerStatus(l *listener, gen int64) gwapiv1.ListenerStatus {
	conflict := gwapiv1.ListenerReasonNoConflicts
	var conflictMsg string
	if l.conflict != "" {
		conflict, conflictMsg = l.conflict, l.accMsg
	}
	conds := []metav1.Condition{
		status.ListenerAccepted(gen, l.accReason, l.accMsg),
		status.ListenerResolvedRefs(gen, l.refReason, l.refMsg),
		status.ListenerConflicted(gen, conflict, conflictMsg),
	}
	if l.automatic != nil {
		conds = append(conds, t.automaticCondition(l, gen))
	}
	return gwapiv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: l.kinds,
		AttachedRoutes: l.attached,
		Conditions:     conds,
	}
}

// sortedListeners returns the programmable listeners of one port, most specific first.
func sortedListeners(ls []*listener) []*listener {
	out := slices.Clone(ls)
	slices.SortStableFunc(out, func(a, b *listener) int {
		return cmp.Or(compareHostSpecificity(a.hostname, b.hostname), cmp.Compare(a.irName(), b.irName()))
	})
	return out
}

func servable(p gwapiv1.ProtocolType) bool {
	return p == gwapiv1.HTTPProtocolType || p == gwapiv1.HTTPSProtocolType || p == gwapiv1.TLSProtocolType ||
		p == gwapiv1.TCPProtocolType || p == gwapiv1.UDPProtocolType
}

func ptr[T any](v T) *T { return &v }

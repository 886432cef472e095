package translator

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

// attachRoute attaches a route of any kind whose rules are already checked.
func (t *translation) attachRoute(r *routeRef, rules *checkedRules) (RouteStatus, bool) {
	st := RouteStatus{Kind: r.kind.name, Namespace: r.meta.Namespace, Name: r.meta.Name, Parents: t.parents.take(len(r.parentRefs))}
	for _, ref := range r.parentRefs {
		set, ok := t.parentScope(r.meta.Namespace, ref)
		if !ok {
			continue
		}
		accepted := t.attachParent(r, ref, set, rules)
		resolved := status.RouteResolvedRefs(r.meta.Generation, rules.refReason, rules.refMsg)
		st.Parents = append(st.Parents, gwapiv1.RouteParentStatus{
			ParentRef:      ref,
			ControllerName: t.in.ControllerName,
			Conditions:     t.routeConditions(accepted, resolved),
		})
	}
	return st, len(st.Parents) > 0
}

// routeConditions returns the conditions of a route parent entry. Consecutive entries
// with the same conditions (accepted, references resolved, same generation: most
// routes of a large table) share one list.
func (t *translation) routeConditions(accepted, resolved metav1.Condition) []metav1.Condition {
	if c := t.lastConditions; len(c) == 2 && c[0] == accepted && c[1] == resolved {
		return c
	}
	t.lastConditions = append(t.conditions.take(2), accepted, resolved)
	return t.lastConditions
}

func (t *translation) refersToGateway(routeNS string, ref gwapiv1.ParentReference) bool {
	if ref.Group != nil && *ref.Group != gatewayGroup || ref.Kind != nil && *ref.Kind != "Gateway" {
		return false
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return ns == t.gw.Namespace && string(ref.Name) == t.gw.Name
}

// parentScope reports whether a parentRef of a route in routeNS names the Gateway or one
// of the ListenerSets that name it, and returns that set (nil for the Gateway): a
// parentRef selects among the listeners of the object it names only.
func (t *translation) parentScope(routeNS string, ref gwapiv1.ParentReference) (*listenerSet, bool) {
	if ref.Group != nil && *ref.Group == gatewayGroup && ref.Kind != nil && *ref.Kind == listenerSetKind {
		return t.listenerSetOf(routeNS, ref)
	}
	return nil, t.refersToGateway(routeNS, ref)
}

// attachParent attaches r to the listeners ref selects among those of the Gateway (set
// nil) or of the ListenerSet set, and returns the Accepted condition.
func (t *translation) attachParent(r *routeRef, ref gwapiv1.ParentReference, set *listenerSet, rules *checkedRules) metav1.Condition {
	gen := r.meta.Generation
	// Gateways have few listeners: both lists usually stay on the stack.
	var candidateBuf, allowedBuf [8]*listener
	candidates := t.selectedListeners(candidateBuf[:0], ref, set)
	if len(candidates) == 0 {
		return status.RouteAccepted(gen, gwapiv1.RouteReasonNoMatchingParent, noParentMessage(ref, set))
	}
	allowed := allowedBuf[:0]
	for _, l := range candidates {
		if t.allowsRoute(l, r.kind.name, r.meta.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return status.RouteAccepted(gen, gwapiv1.RouteReasonNotAllowedByListeners,
			fmt.Sprintf("no listener of %s allows %ss from namespace %q", t.parentName(set), r.kind.name, r.meta.Namespace))
	}
	if rules.unsupported != "" {
		return status.RouteAccepted(gen, gwapiv1.RouteReasonUnsupportedValue, rules.unsupported)
	}
	attached := 0
	var conflict *hostClaim
	var lost []lostListener
	claims := t.mixedKinds
	for _, l := range allowed {
		rh := l.effectiveHosts(r.hostnames)
		hosts := rh.hosts
		if len(hosts) == 0 {
			continue
		}
		if claims {
			if c := l.conflictingClaim(r.kind.name, hosts); c != nil {
				conflict = c
				lost = append(lost, lostListener{name: string(l.spec.Name), to: c})
				continue
			}
			l.addClaim(hostClaim{kind: r.kind.name, namespace: r.meta.Namespace, name: r.meta.Name, hostnames: hosts})
		}
		attached++
		l.attached++
		if l.programOK {
			l.routes.add(attachedRoute{hostnames: hosts, origins: rh.origins, rules: rules, age: r.age})
		}
	}
	if attached == 0 && conflict != nil {
		return status.RouteAccepted(gen, RouteReasonHostnameConflict, conflictMessage(r.kind.name, conflict))
	}
	if attached == 0 {
		return status.RouteAccepted(gen, gwapiv1.RouteReasonNoMatchingListenerHostname,
			"no hostname of the route intersects the hostname of a listener it may attach to")
	}
	return status.RouteAccepted(gen, gwapiv1.RouteReasonAccepted, partialConflictMessage(r.kind.name, lost))
}

// selectedListeners appends to buf the accepted listeners of the Gateway (set nil) or of
// the ListenerSet set that ref's sectionName and port select.
func (t *translation) selectedListeners(buf []*listener, ref gwapiv1.ParentReference, set *listenerSet) []*listener {
	for _, l := range t.listeners {
		if l.set != set || ref.SectionName != nil && *ref.SectionName != l.spec.Name || ref.Port != nil && *ref.Port != l.spec.Port {
			continue
		}
		if l.accepted {
			buf = append(buf, l)
		}
	}
	return buf
}

// parentName names the Gateway (set nil) or the ListenerSet set in messages.
func (t *translation) parentName(set *listenerSet) string {
	if set != nil {
		return fmt.Sprintf("ListenerSet %s/%s", set.obj.Namespace, set.obj.Name)
	}
	return fmt.Sprintf("Gateway %s/%s", t.gw.Namespace, t.gw.Name)
}

func noParentMessage(ref gwapiv1.ParentReference, set *listenerSet) string {
	if set != nil && !set.allowed {
		return "the ListenerSet is not attached to its Gateway: " + set.notAllowed
	}
	var sel []string
	if ref.SectionName != nil {
		sel = append(sel, fmt.Sprintf("sectionName %q", *ref.SectionName))
	}
	if ref.Port != nil {
		sel = append(sel, fmt.Sprintf("port %d", *ref.Port))
	}
	if len(sel) == 0 && set != nil {
		return "the ListenerSet has no accepted listener"
	}
	if len(sel) == 0 {
		return "the Gateway has no accepted listener"
	}
	return "no accepted listener matches " + strings.Join(sel, " and ")
}

// allowsRoute applies a listener's allowedRoutes (namespaces and kinds) to a route;
// "Same" is the namespace of the listener's owner (the Gateway or its ListenerSet).
func (t *translation) allowsRoute(l *listener, kind, routeNS string) bool {
	if !slices.ContainsFunc(l.kinds, func(k gwapiv1.RouteGroupKind) bool { return string(k.Kind) == kind }) {
		return false
	}
	from := gwapiv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gwapiv1.NamespacesFromAll:
		return true
	case gwapiv1.NamespacesFromSame:
		return routeNS == l.namespace(t.gw)
	case gwapiv1.NamespacesFromSelector:
		ns, ok := t.namespaces[routeNS]
		if !ok || sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && s.Matches(labels.Set(ns.Labels))
	}
	return false
}

func hostStrings(hs []gwapiv1.Hostname) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h)
	}
	return out
}

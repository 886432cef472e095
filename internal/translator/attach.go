package translator

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// attachHTTPRoute attaches a route to the listeners its parentRefs to this Gateway
// select and returns its status entries; ok is false when no parentRef names the Gateway.
func (t *translation) attachHTTPRoute(r *gwapiv1.HTTPRoute) (RouteStatus, bool) {
	st := RouteStatus{Kind: kindHTTPRoute, Namespace: r.Namespace, Name: r.Name}
	rules := t.checkRules(r)
	for _, ref := range r.Spec.ParentRefs {
		if !t.refersToGateway(r.Namespace, ref) {
			continue
		}
		accepted := t.attachParent(r, ref, rules)
		resolved := routeResolvedRefs(r.Generation, rules.refReason, rules.refMsg)
		st.Parents = append(st.Parents, gwapiv1.RouteParentStatus{
			ParentRef:      ref,
			ControllerName: t.in.ControllerName,
			Conditions:     []metav1.Condition{accepted, resolved},
		})
	}
	return st, len(st.Parents) > 0
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

// attachParent attaches r to the listeners ref selects and returns the Accepted condition.
func (t *translation) attachParent(r *gwapiv1.HTTPRoute, ref gwapiv1.ParentReference, rules *checkedRules) metav1.Condition {
	gen := r.Generation
	var candidates []*listener
	for _, l := range t.listeners {
		if ref.SectionName != nil && *ref.SectionName != l.spec.Name || ref.Port != nil && *ref.Port != l.spec.Port {
			continue
		}
		if l.accepted {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return routeAccepted(gen, gwapiv1.RouteReasonNoMatchingParent, noParentMessage(ref))
	}
	var allowed []*listener
	for _, l := range candidates {
		if t.allowsRoute(l, r.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return routeAccepted(gen, gwapiv1.RouteReasonNotAllowedByListeners,
			fmt.Sprintf("no listener of Gateway %s/%s allows HTTPRoutes from namespace %q", t.gw.Namespace, t.gw.Name, r.Namespace))
	}
	if rules.unsupported != "" {
		return routeAccepted(gen, gwapiv1.RouteReasonUnsupportedValue, rules.unsupported)
	}
	attached := 0
	for _, l := range allowed {
		hosts := effectiveHostnames(l.hostname, hostStrings(r.Spec.Hostnames))
		if len(hosts) == 0 {
			continue
		}
		attached++
		l.attached++
		if l.programOK {
			l.routes = append(l.routes, attachedRoute{route: r, hostnames: hosts, rules: rules})
		}
	}
	if attached == 0 {
		return routeAccepted(gen, gwapiv1.RouteReasonNoMatchingListenerHostname,
			"no hostname of the route intersects the hostname of a listener it may attach to")
	}
	return routeAccepted(gen, gwapiv1.RouteReasonAccepted, "")
}

func noParentMessage(ref gwapiv1.ParentReference) string {
	var sel []string
	if ref.SectionName != nil {
		sel = append(sel, fmt.Sprintf("sectionName %q", *ref.SectionName))
	}
	if ref.Port != nil {
		sel = append(sel, fmt.Sprintf("port %d", *ref.Port))
	}
	if len(sel) == 0 {
		return "the Gateway has no accepted listener"
	}
	return "no accepted listener matches " + strings.Join(sel, " and ")
}

// allowsRoute applies a listener's allowedRoutes (namespaces and kinds) to an HTTPRoute.
func (t *translation) allowsRoute(l *listener, routeNS string) bool {
	if len(l.kinds) == 0 {
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
		return routeNS == t.gw.Namespace
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

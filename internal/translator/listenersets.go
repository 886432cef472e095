package translator

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

// listenerSetKind is the kind of ListenerSets in parentRefs and ReferenceGrants.
const listenerSetKind = "ListenerSet"

// listenerSet is the translation state of one ListenerSet whose parentRef names the
// Gateway.
type listenerSet struct {
	obj *gwapiv1.ListenerSet
	// allowed says the Gateway's spec.allowedListeners admits the set; notAllowed says
	// why not.
	allowed    bool
	notAllowed string
	// listeners are the set's listeners, in spec order (allowed sets only).
	listeners []*listener
}

// ListenerSetStatus is the part of one ListenerSet's status that the translation
// decides. The Programmed conditions (of the set and of its listeners) are not set here:
// only the pusher knows whether the data plane took the config.
type ListenerSetStatus struct {
	// Namespace and Name identify the ListenerSet.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Generation is the ListenerSet's metadata.generation the conditions observe.
	Generation int64 `json:"generation"`
	// Accepted is the set's Accepted condition.
	Accepted metav1.Condition `json:"accepted"`
	// Listeners are the statuses of the set's listeners, in spec order; empty when the
	// Gateway does not allow the set.
	Listeners []gwapiv1.ListenerEntryStatus `json:"listeners"`
}

// parentGateway reports whether ls's parentRef names gw.
func parentGateway(ls *gwapiv1.ListenerSet, gw *gwapiv1.Gateway) bool {
	ref := ls.Spec.ParentRef
	if ref.Group != nil && *ref.Group != gatewayGroup || ref.Kind != nil && *ref.Kind != "Gateway" {
		return false
	}
	ns := ls.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

// allowsListenerSet applies the Gateway's spec.allowedListeners to a ListenerSet in
// namespace ns: "" when it may attach, otherwise why not.
func allowsListenerSet(gw *gwapiv1.Gateway, ns *corev1.Namespace, name string) string {
	from := gwapiv1.NamespacesFromNone
	var sel *metav1.LabelSelector
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil {
		if al.Namespaces.From != nil {
			from = *al.Namespaces.From
		}
		sel = al.Namespaces.Selector
	}
	switch from {
	case gwapiv1.NamespacesFromAll:
		return ""
	case gwapiv1.NamespacesFromSame:
		if name == gw.Namespace {
			return ""
		}
		return fmt.Sprintf("Gateway %s/%s allows ListenerSets from its own namespace only (spec.allowedListeners.namespaces.from: Same)", gw.Namespace, gw.Name)
	case gwapiv1.NamespacesFromSelector:
		if sel == nil {
			return fmt.Sprintf("Gateway %s/%s has spec.allowedListeners.namespaces.from Selector without a selector", gw.Namespace, gw.Name)
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return fmt.Sprintf("Gateway %s/%s has an invalid spec.allowedListeners.namespaces.selector: %v", gw.Namespace, gw.Name, err)
		}
		if ns != nil && s.Matches(labels.Set(ns.Labels)) {
			return ""
		}
		return fmt.Sprintf("namespace %q does not match the spec.allowedListeners.namespaces.selector of Gateway %s/%s", name, gw.Namespace, gw.Name)
	}
	return fmt.Sprintf("Gateway %s/%s allows no ListenerSets (spec.allowedListeners.namespaces.from: None, the default)", gw.Namespace, gw.Name)
}

// listenerSetsOf returns the ListenerSets of sets whose parentRef names gw, in the order
// their listeners yield to each other: oldest first, then by namespace/name.
func listenerSetsOf(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) []*gwapiv1.ListenerSet {
	var out []*gwapiv1.ListenerSet
	for i := range sets {
		if parentGateway(&sets[i], gw) {
			out = append(out, &sets[i])
		}
	}
	slices.SortStableFunc(out, func(a, b *gwapiv1.ListenerSet) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// AllowedListenerSetListeners returns the listeners of the ListenerSets of sets that
// name gw and that its spec.allowedListeners admits (namespaces gives the labels for a
// selector), in precedence order: the listeners the Gateway's fleet must open ports for,
// beside its own. Listeners on the pods' own ports (Input.OwnPorts) are left out, as the
// translation refuses them; listeners that lose a conflict are among them: a conflict is
// always with a listener on the same port.
func AllowedListenerSetListeners(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, namespaces []corev1.Namespace, ownPorts map[int32]string) []gwapiv1.Listener {
	var out []gwapiv1.Listener
	for _, ls := range listenerSetsOf(gw, sets) {
		var ns *corev1.Namespace
		for i := range namespaces {
			if namespaces[i].Name == ls.Namespace {
				ns = &namespaces[i]
			}
		}
		if allowsListenerSet(gw, ns, ls.Namespace) != "" {
			continue
		}
		for _, e := range ls.Spec.Listeners {
			if _, own := ownPorts[e.Port]; !own {
				out = append(out, gwapiv1.Listener(e))
			}
		}
	}
	return out
}

// buildListenerSets notes the ListenerSets that name the Gateway, in precedence order,
// and adds the listeners of those it allows after the Gateway's own.
func (t *translation) buildListenerSets() {
	for _, obj := range listenerSetsOf(t.gw, t.in.ListenerSets) {
		ls := &listenerSet{obj: obj}
		ls.notAllowed = allowsListenerSet(t.gw, t.namespaces[obj.Namespace], obj.Namespace)
		ls.allowed = ls.notAllowed == ""
		t.sets = append(t.sets, ls)
		if !ls.allowed {
			continue
		}
		for i := range obj.Spec.Listeners {
			spec := gwapiv1.Listener(obj.Spec.Listeners[i])
			l := t.newListener(&spec, ls, i)
			if what, own := t.in.OwnPorts[spec.Port]; own {
				l.reject(gwapiv1.ListenerReasonPortUnavailable,
					fmt.Sprintf("port %d is %s of the Gateway's Caddy pods", spec.Port, what))
			}
			ls.listeners = append(ls.listeners, l)
			t.listeners = append(t.listeners, l)
		}
	}
}

// accepted reports whether the set is attached to the Gateway: allowed, with at least
// one listener that serves.
func (ls *listenerSet) accepted() bool {
	return ls.allowed && slices.ContainsFunc(ls.listeners, func(l *listener) bool { return l.programOK })
}

// listenerSetOf returns the set named by a route's parentRef of kind ListenerSet among
// those that name the Gateway.
func (t *translation) listenerSetOf(routeNS string, ref gwapiv1.ParentReference) (*listenerSet, bool) {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	for _, ls := range t.sets {
		if ls.obj.Namespace == ns && ls.obj.Name == string(ref.Name) {
			return ls, true
		}
	}
	return nil, false
}

// listenerSetStatuses reports every ListenerSet that names the Gateway, by
// namespace/name, and the number of those attached.
func (t *translation) listenerSetStatuses() ([]ListenerSetStatus, int32) {
	out := make([]ListenerSetStatus, 0, len(t.sets))
	var attached int32
	for _, ls := range t.sets {
		gen := ls.obj.Generation
		st := ListenerSetStatus{Namespace: ls.obj.Namespace, Name: ls.obj.Name, Generation: gen,
			Listeners: []gwapiv1.ListenerEntryStatus{}}
		switch {
		case !ls.allowed:
			st.Accepted = status.ListenerSetAccepted(gen, gwapiv1.ListenerSetReasonNotAllowed, ls.notAllowed)
		case ls.accepted():
			attached++
			st.Accepted = status.ListenerSetAccepted(gen, gwapiv1.ListenerSetReasonAccepted, "")
		default:
			st.Accepted = status.ListenerSetAccepted(gen, gwapiv1.ListenerSetReasonListenersNotValid,
				"no listener of the ListenerSet is valid: see its listeners' conditions")
		}
		for _, l := range ls.listeners {
			st.Listeners = append(st.Listeners, gwapiv1.ListenerEntryStatus(t.listenerStatus(l, gen)))
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b ListenerSetStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, attached
}

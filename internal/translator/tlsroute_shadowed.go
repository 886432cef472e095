package translator

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/status"
)

// shadowedHost is an effective hostname of a TLSRoute on a listener that another
// TLSRoute serves there (tlsServer): connections with that server name go to the other.
type shadowedHost struct {
	listener *listener
	host     string
	// route is the route that lost the hostname, by the route that serves it.
	route, by ir.RuleSource
}

// noteShadowedHosts names, in the Accepted message of each parent entry of a TLSRoute
// that selects a listener where the route lost hostnames to other TLSRoutes, those
// hostnames and the routes serving them. The entries stay Accepted: the route is
// attached, serves its other hostnames, and gets the lost ones back when the other
// route goes, as the Gateway API's TLSRoute precedence (and its conformance test
// TLSRouteMultipleRoutesAttachmentSameHostnameIntersection) has it.
func (t *translation) noteShadowedHosts(routes []RouteStatus) {
	if len(t.shadowed) == 0 {
		return
	}
	byRoute := map[nsName][]shadowedHost{}
	for _, s := range t.shadowed {
		k := nsName{s.route.Namespace, s.route.Name}
		byRoute[k] = append(byRoute[k], s)
	}
	for i := range routes {
		st := &routes[i]
		lost := byRoute[nsName{st.Namespace, st.Name}]
		if st.Kind != kindTLSRoute || len(lost) == 0 {
			continue
		}
		for j := range st.Parents {
			p := &st.Parents[j]
			acc := p.Conditions[0]
			if acc.Status != metav1.ConditionTrue {
				continue
			}
			if msg := shadowedHostsMessage(p.ParentRef, lost); msg != "" {
				acc = status.RouteAccepted(acc.ObservedGeneration, gwapiv1.RouteReasonAccepted, msg)
				// The conditions may be shared with other entries (routeConditions).
				p.Conditions = []metav1.Condition{acc, p.Conditions[1]}
			}
		}
	}
}

// shadowedHostsMessage is the Accepted message of a parent entry (ref) of a route that
// lost the hostnames lost; "" when ref selects none of their listeners.
func shadowedHostsMessage(ref gwapiv1.ParentReference, lost []shadowedHost) string {
	var parts []string
	for _, s := range lost {
		l := s.listener.spec
		if ref.SectionName != nil && *ref.SectionName != l.Name || ref.Port != nil && *ref.Port != l.Port {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s on listener %q (served by TLSRoute %s/%s)", s.host, l.Name, s.by.Namespace, s.by.Name))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Route is accepted, but other TLSRoutes serve some of its hostnames: " + strings.Join(parts, ", ") +
		"; a server name goes to the route with the most specific hostname of its own, then the oldest, " +
		"then the first by namespace/name"
}

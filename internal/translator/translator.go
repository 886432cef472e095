// Package translator turns the Gateway API objects that concern one Gateway into the
// intermediate representation its data plane serves (package ir) and the statuses the
// operator publishes for the Gateway's listeners and the attached routes.
//
// It is a pure function of its Input: it reads no cluster, performs no I/O, does not
// look at the clock, and returns the same Output for the same Input. Lists in the Output
// are sorted, so the emitted Caddy config and its hash are stable.
package translator

import (
	"slices"

	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/ir"
)

// DefaultClusterDomain is used for backend addresses when Input.ClusterDomain is empty.
const DefaultClusterDomain = "cluster.local"

// Input is everything the translation of one Gateway may read. Objects that do not
// concern the Gateway are allowed and ignored.
type Input struct {
	// Gateway is the Gateway to translate; required.
	Gateway *gwapiv1.Gateway
	// ControllerName is written into every route parent status.
	ControllerName gwapiv1.GatewayController
	// HTTPRoutes are candidate routes; those with a parentRef to Gateway are used.
	HTTPRoutes []gwapiv1.HTTPRoute
	// GRPCRoutes are candidate gRPC routes, used like HTTPRoutes.
	GRPCRoutes []gwapiv1.GRPCRoute
	// TLSRoutes are candidate TLS routes, served on TLS listeners by server name.
	TLSRoutes []gwapiv1.TLSRoute
	// TCPRoutes are candidate TCP routes, served on TCP listeners.
	TCPRoutes []gwapiv1.TCPRoute
	// UDPRoutes are candidate UDP routes, served on UDP listeners.
	UDPRoutes []gwapiv1.UDPRoute
	// Services are the possible backends.
	Services []corev1.Service
	// Secrets hold listener certificates and the Gateway's backend client certificate
	// (type kubernetes.io/tls), and the EAB key and trusted CA spec.acme may name.
	Secrets []corev1.Secret
	// ConfigMaps hold CA bundles (key ca.crt) for frontend client certificate validation,
	// for BackendTLSPolicies and for the directory of a private ACME CA (spec.acme).
	ConfigMaps []corev1.ConfigMap
	// ReferenceGrants permit cross-namespace references.
	ReferenceGrants []gwapiv1.ReferenceGrant
	// BackendTLSPolicies say how to speak TLS to the Service ports they target.
	BackendTLSPolicies []gwapiv1.BackendTLSPolicy
	// ClusterTrustBundles hold CA bundles a BackendTLSPolicy may name.
	ClusterTrustBundles []certificatesv1beta1.ClusterTrustBundle
	// ClusterTrustBundlesServed says the cluster serves ClusterTrustBundles; when false,
	// a reference to one is refused with a condition that says so.
	ClusterTrustBundlesServed bool
	// ListenerSets are candidate ListenerSets; those whose parentRef names Gateway are
	// attached as its spec.allowedListeners says.
	ListenerSets []gwapiv1.ListenerSet
	// OwnPorts are the ports the Gateway's Caddy pods use for themselves (admin,
	// readiness, metrics), each with what uses it: a ListenerSet's listener on one is
	// refused (PortUnavailable), and the rest of the Gateway is served.
	OwnPorts map[int32]string
	// Namespaces are needed for allowedRoutes and allowedListeners namespace selectors
	// (labels).
	Namespaces []corev1.Namespace
	// ClusterDomain is the DNS suffix of Services; DefaultClusterDomain when empty.
	ClusterDomain string
	// CertificateStates are what the Gateway's Caddy pods last recorded of its automatic
	// certificates, by hostname (read from the Gateway's ACME storage): listener
	// conditions report them.
	CertificateStates map[string]acmestore.CertificateState
	// ACMEOrdersHeld says that no Caddy pod of the Gateway is ready yet, so that the
	// certificates obtained ahead are not ordered (emit.Options.HoldACMEOrders): listener
	// conditions say that their names wait for a ready pod.
	ACMEOrdersHeld bool
	// Memo, when set, keeps the checked rules of routes from this translation of the
	// Gateway to its next one (see Memo); the Output does not depend on it.
	Memo *Memo
	// ACME is the Gateway's merged CaddyProxyConfig spec.acme (nil for every default): how
	// the listeners asking for automatic certificates obtain them. The Secret of its
	// externalAccountBinding and the Secret or ConfigMap of its trustedCARef, in the
	// Gateway's namespace, are read from Secrets and ConfigMaps.
	ACME *v1alpha1.ACMESpec
}

// Output is the result of a translation.
type Output struct {
	// IR is what the data plane must serve.
	IR *ir.Gateway `json:"ir"`
	// Listeners are the listener statuses, in spec order. The Programmed condition is
	// not set here: only the pusher knows whether the data plane took the config.
	Listeners []gwapiv1.ListenerStatus `json:"listeners"`
	// ListenerSets are the statuses of the ListenerSets whose parentRef names the
	// Gateway, sorted by namespace/name.
	ListenerSets []ListenerSetStatus `json:"listenerSets,omitempty"`
	// AttachedListenerSets is the number of those accepted (status.attachedListenerSets).
	AttachedListenerSets int32 `json:"attachedListenerSets,omitempty"`
	// ListenerSetListeners are the listeners of the ListenerSets the Gateway allows, in
	// precedence order, but those on the pods' own ports (Input.OwnPorts): the listeners
	// whose ports the Gateway's fleet opens beside its own (infra.Input). They are the
	// input's, read only.
	ListenerSetListeners []gwapiv1.Listener `json:"-"`
	// Routes are the route statuses for this Gateway's parentRefs, sorted by kind, then
	// namespace/name; each holds only the parent entries that refer to this Gateway or to
	// one of the ListenerSets that name it.
	Routes []RouteStatus `json:"routes,omitempty"`
	// Conditions are the Gateway conditions the translation decides (types in
	// GatewayConditionTypes), sorted by type; Accepted and Programmed are not among them.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Policies are this Gateway's ancestor entries of the BackendTLSPolicies that target
	// a Service its routes use, sorted by namespace/name.
	Policies []PolicyStatus `json:"policies,omitempty"`
}

// PolicyStatus is the part of one policy's status that this Gateway owns.
type PolicyStatus struct {
	// Kind, Namespace and Name identify the policy.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ancestor is the entry whose ancestorRef is this Gateway.
	Ancestor gwapiv1.PolicyAncestorStatus `json:"ancestor"`
}

// RouteStatus is the part of one route's status that this Gateway owns.
type RouteStatus struct {
	// Kind, Namespace and Name identify the route.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Parents are the entries for parentRefs that point at this Gateway, in parentRef
	// order. Entries of several routes may share their Conditions: treat them as read-only.
	Parents []gwapiv1.RouteParentStatus `json:"parents"`
}

// Translate computes the IR and statuses of in.Gateway.
func Translate(in Input) Output {
	t := newTranslation(in)
	t.buildListeners()
	out := Output{}
	out.Routes = t.attachAll(t.routesInAttachOrder())
	out.IR = t.buildIR()
	t.noteShadowedHosts(out.Routes)
	out.Listeners = t.listenerStatuses()
	out.ListenerSets, out.AttachedListenerSets = t.listenerSetStatuses()
	out.ListenerSetListeners = t.setListeners()
	out.Conditions = t.gatewayConditions()
	out.Policies = t.policyStatuses()
	t.memo.done()
	return out
}

// attachAll checks and attaches the pending routes in attach order, and returns their
// statuses by kind, then namespace/name (pendingRoute.statusRank).
func (t *translation) attachAll(pending []pendingRoute) []RouteStatus {
	statuses := make([]RouteStatus, len(pending))
	t.checkInOrder(pending, func(r *pendingRoute) {
		t.keep(r)
		if st, ok := t.attach(r); ok {
			statuses[r.statusRank] = st
		}
	})
	return slices.DeleteFunc(statuses, func(st RouteStatus) bool { return st.Kind == "" })
}

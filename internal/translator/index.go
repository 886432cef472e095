package translator

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// nsName keys objects by namespace and name.
type nsName struct{ ns, name string }

// translation is the working state of one Translate call.
type translation struct {
	in         Input
	gw         *gwapiv1.Gateway
	domain     string
	services   map[nsName]*corev1.Service
	secrets    map[nsName]*corev1.Secret
	namespaces map[string]*corev1.Namespace
	listeners  []*listener
	// sets are the ListenerSets whose parentRef names the Gateway, in precedence order.
	sets     []*listenerSet
	certData map[string][2]string
	// policies are the BackendTLSPolicies by target (nil without any); read-only while
	// routes are checked, but for their seen marks.
	policies *backendPolicies
	// clientCert names the Gateway's backend client certificate ("" without a usable
	// one); clientCertCond is the Gateway's ResolvedRefs condition about it, nil when
	// the Gateway names none.
	clientCert     string
	clientCertCond *metav1.Condition
	// backendCache holds resolved backend references; routes share backends.
	backendCache map[resolvedKey]resolved
	// localServices holds resolved references to Service ports in the route's namespace.
	localServices map[localServiceKey]resolved
	// regexErrs caches the compile error ("" when valid) of each distinct user regex.
	regexErrs map[string]string
	// emittedErrs caches the compile error ("" when valid) of each distinct emitted pattern.
	emittedErrs map[string]string
	// acme is the Gateway's ACME settings when a listener obtains automatic
	// certificates (resolveAutomatic).
	acme *ir.ACME
	// shadowed are the hostnames of TLSRoutes that other TLSRoutes serve (buildIR).
	shadowed []shadowedHost
	// mixedKinds is set when the input has routes of more than one kind (kindsMayConflict).
	mixedKinds bool
	// memo holds the checked rules of earlier translations (Input.Memo); reads collects
	// the Services checking the current route looks up, for it.
	memo  memoUse
	reads *[]nsName
	// lastConditions are the conditions of the last route parent entry (routeConditions).
	lastConditions []metav1.Condition
	// Blocks for the short lists of the output and of the checked routes.
	checked       slab[checkedRules]
	rules         slab[rule]
	matches       slab[ir.Match]
	parents       slab[gwapiv1.RouteParentStatus]
	conditions    slab[metav1.Condition]
	backends      slab[ir.Backend]
	stringMatches slab[ir.StringMatch]
	ruleSources   slab[ir.RuleSource]
}

func newTranslation(in Input) *translation {
	t := &translation{
		in:           in,
		gw:           in.Gateway,
		domain:       in.ClusterDomain,
		services:     make(map[nsName]*corev1.Service, len(in.Services)),
		secrets:      make(map[nsName]*corev1.Secret, len(in.Secrets)),
		namespaces:   make(map[string]*corev1.Namespace, len(in.Namespaces)),
		certData:     map[string][2]string{},
		backendCache: map[resolvedKey]resolved{},
		regexErrs:    map[string]string{},
		emittedErrs:  map[string]string{},
		mixedKinds:   kindsMayConflict(&in),
		memo:         useMemo(&in),
	}
	if t.domain == "" {
		t.domain = DefaultClusterDomain
	}
	for i := range in.Services {
		s := &in.Services[i]
		t.services[nsName{s.Namespace, s.Name}] = s
	}
	for i := range in.Secrets {
		s := &in.Secrets[i]
		t.secrets[nsName{s.Namespace, s.Name}] = s
	}
	for i := range in.Namespaces {
		n := &in.Namespaces[i]
		t.namespaces[n.Name] = n
	}
	t.resolveBackendClientCertificate()
	t.policies = t.buildBackendPolicies()
	return t
}

// refGrant is one side of a reference for ReferenceGrant checks.
type refGrant struct {
	fromGroup, fromKind, fromNS string
	toGroup, toKind, toNS, name string
}

// permitted reports whether a ReferenceGrant in r.toNS allows the reference r.
func (t *translation) permitted(r refGrant) bool {
	if r.fromNS == r.toNS {
		return true
	}
	for i := range t.in.ReferenceGrants {
		g := &t.in.ReferenceGrants[i]
		if g.Namespace != r.toNS || !grantFrom(g, r) {
			continue
		}
		for _, to := range g.Spec.To {
			if string(to.Group) == r.toGroup && string(to.Kind) == r.toKind &&
				(to.Name == nil || string(*to.Name) == r.name) {
				return true
			}
		}
	}
	return false
}

func grantFrom(g *gwapiv1.ReferenceGrant, r refGrant) bool {
	for _, f := range g.Spec.From {
		if string(f.Group) == r.fromGroup && string(f.Kind) == r.fromKind && string(f.Namespace) == r.fromNS {
			return true
		}
	}
	return false
}

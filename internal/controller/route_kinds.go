package controller

import (
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// routeKind is one row of the table of route kinds: what the controller needs to know of
// a kind to index, watch and load its routes and to write their statuses. Rows are built
// by rowOf from a kindSpec; everything else in the package works on rows only.
type routeKind struct {
	// gvk names the kind's API; the cluster must serve it for the kind to be used.
	gvk schema.GroupVersionKind
	// newRoute returns an empty route of the kind.
	newRoute func() client.Object
	// newList returns an empty list of the kind.
	newList func() client.ObjectList
	// items returns the routes of a list newList made, pointing into the list.
	items func(client.ObjectList) []client.Object
	// common returns what every route kind shares: its spec's parentRefs and its status.
	common func(client.Object) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus)
	// backendKeys returns the Services a route sends traffic to.
	backendKeys func(client.Object) []client.ObjectKey
	// setInput puts the routes of a list newList made into the translator's input.
	setInput func(*translator.Input, client.ObjectList)
}

// kindSpec describes a route kind through its Go types: R is the route, L its list.
type kindSpec[R, L any] struct {
	// gvk names the kind's API.
	gvk schema.GroupVersionKind
	// items returns the routes of a list.
	items func(*L) []R
	// common returns the route's parentRefs and status.
	common func(*R) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus)
	// backendKeys returns the Services the route's rules send traffic to.
	backendKeys func(*R) []client.ObjectKey
	// input returns the field of the translator's input that holds routes of the kind.
	input func(*translator.Input) *[]R
}

// rowOf turns the description of a kind into its row of the table.
func rowOf[R, L any, PR interface {
	*R
	client.Object
}, PL interface {
	*L
	client.ObjectList
}](s kindSpec[R, L]) routeKind {
	route := func(o client.Object) *R { return (*R)(o.(PR)) }
	list := func(l client.ObjectList) *L { return (*L)(l.(PL)) }
	return routeKind{
		gvk:      s.gvk,
		newRoute: func() client.Object { return PR(new(R)) },
		newList:  func() client.ObjectList { return PL(new(L)) },
		items: func(l client.ObjectList) []client.Object {
			rs := s.items(list(l))
			out := make([]client.Object, len(rs))
			for i := range rs {
				out[i] = PR(&rs[i])
			}
			return out
		},
		common:      func(o client.Object) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) { return s.common(route(o)) },
		backendKeys: func(o client.Object) []client.ObjectKey { return s.backendKeys(route(o)) },
		setInput:    func(in *translator.Input, l client.ObjectList) { *s.input(in) = s.items(list(l)) },
	}
}

// kind is the kind's name, as in translator.RouteStatus.Kind and routeKey.Kind.
func (k routeKind) kind() string { return k.gvk.Kind }

// indexGateways names the field index of the kind's routes by the "namespace/name" of
// the Gateways they name in parentRefs or carry a status entry of this operator for.
func (k routeKind) indexGateways() string {
	return "caddygateway.io/" + strings.ToLower(k.kind()) + "-gateways"
}

// indexBackends names the field index of the kind's routes by the "namespace/name" of
// their backend Services.
func (k routeKind) indexBackends() string {
	return "caddygateway.io/" + strings.ToLower(k.kind()) + "-backends"
}

// gatewayKeys are the "namespace/name" of the Gateways a route names in its parentRefs
// or has status entries of this operator for (so detaching clears them), and
// listenerSetKeyPrefix+"namespace/name" of the ListenerSets it names so
// (GatewayReconciler.requestsOfRouteKeys maps those to their Gateways).
func (k routeKind) gatewayKeys(rt client.Object, controller gwapiv1.GatewayController) []string {
	spec, status := k.common(rt)
	seen := map[string]bool{}
	var keys []string
	add := func(ref gwapiv1.ParentReference) {
		prefix := ""
		switch {
		case ref.Group != nil && *ref.Group == gwapiv1.GroupName && ref.Kind != nil && *ref.Kind == "ListenerSet":
			prefix = listenerSetKeyPrefix
		case (ref.Group != nil && *ref.Group != gwapiv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway"):
			return
		}
		ns := rt.GetNamespace()
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if key := prefix + ns + "/" + string(ref.Name); !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	for _, ref := range spec.ParentRefs {
		add(ref)
	}
	for _, p := range status.Parents {
		if p.ControllerName == controller {
			add(p.ParentRef)
		}
	}
	return keys
}

// routeKinds is a set of rows of the table.
type routeKinds []routeKind

// allRouteKinds is the table: every route kind the operator knows. A new kind is a row
// here and a file of its own holding its kindSpec and RBAC markers.
var allRouteKinds = routeKinds{httpRouteKind, grpcRouteKind, tlsRouteKind, tcpRouteKind, udpRouteKind}

// byKind returns the row of kind.
func (ks routeKinds) byKind(kind string) (routeKind, bool) {
	for _, k := range ks {
		if k.kind() == kind {
			return k, true
		}
	}
	return routeKind{}, false
}

// installedRouteKinds returns the rows of allRouteKinds whose API the cluster serves. A
// kind whose CRD is not installed is left out with a log line: route CRDs are optional,
// and the operator serves the kinds it finds (until it restarts, as it reads them once).
func installedRouteKinds(mapper meta.RESTMapper, log logr.Logger) (routeKinds, error) {
	var out routeKinds
	for _, k := range allRouteKinds {
		_, err := mapper.RESTMapping(k.gvk.GroupKind(), k.gvk.Version)
		switch {
		case err == nil:
			out = append(out, k)
		case meta.IsNoMatchError(err):
			log.Info("Route kind not served: its CRD is not installed", "kind", k.kind(), "apiVersion", k.gvk.GroupVersion().String())
		default:
			return nil, fmt.Errorf("looking up the API of %s: %w", k.kind(), err)
		}
	}
	return out, nil
}

// mirroredBackends says where the rules of a kind with RequestMirror filters (HTTPRoute,
// GRPCRoute) keep their backends, for keys to walk them.
type mirroredBackends[Rule, Ref, Filter any] struct {
	// rule returns a rule's filters and backendRefs.
	rule func(*Rule) ([]Filter, []Ref)
	// ref returns a backendRef's backend and filters.
	ref func(*Ref) (*gwapiv1.BackendObjectReference, []Filter)
	// mirror returns the backend of a RequestMirror filter, nil for any other filter.
	mirror func(*Filter) *gwapiv1.BackendObjectReference
}

// keys are the Services rules (of a route in namespace ns) send traffic to: backendRefs
// and the backends of RequestMirror filters, on rules and on backendRefs.
func (m mirroredBackends[Rule, Ref, Filter]) keys(ns string, rules []Rule) []client.ObjectKey {
	var keys []client.ObjectKey
	mirrors := func(fs []Filter) {
		for i := range fs {
			if ref := m.mirror(&fs[i]); ref != nil {
				keys = appendServiceKey(keys, ns, ref)
			}
		}
	}
	for i := range rules {
		filters, refs := m.rule(&rules[i])
		mirrors(filters)
		for j := range refs {
			ref, fs := m.ref(&refs[j])
			keys = appendServiceKey(keys, ns, ref)
			mirrors(fs)
		}
	}
	return keys
}

// appendServiceKey appends the key of the Service ref names (relative to namespace
// ns), unless ref is of another kind.
func appendServiceKey(keys []client.ObjectKey, ns string, ref *gwapiv1.BackendObjectReference) []client.ObjectKey {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		return keys
	}
	key := client.ObjectKey{Namespace: ns, Name: string(ref.Name)}
	if ref.Namespace != nil {
		key.Namespace = string(*ref.Namespace)
	}
	return append(keys, key)
}

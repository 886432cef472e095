//nolint:dupl // every route kind's row has this shape over its own API types
package controller

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=tlsroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=tlsroutes/status,verbs=update

// tlsRouteKind is the TLSRoute row of the table of route kinds.
var tlsRouteKind = rowOf(kindSpec[gwapiv1.TLSRoute, gwapiv1.TLSRouteList]{
	gvk:   schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "TLSRoute"},
	items: func(l *gwapiv1.TLSRouteList) []gwapiv1.TLSRoute { return l.Items },
	common: func(rt *gwapiv1.TLSRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: tlsBackendKeys,
	input:       func(in *translator.Input) *[]gwapiv1.TLSRoute { return &in.TLSRoutes },
})

// tlsBackendKeys are the Services a TLSRoute's rules send connections to: their
// backendRefs (TLSRoutes have no filters).
func tlsBackendKeys(rt *gwapiv1.TLSRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := range rt.Spec.Rules {
		for j := range rt.Spec.Rules[i].BackendRefs {
			keys = appendServiceKey(keys, rt.Namespace, &rt.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
		}
	}
	return keys
}

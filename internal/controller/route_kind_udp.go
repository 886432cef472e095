//nolint:dupl // every route kind's row has this shape over its own API types
package controller

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=udproutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=udproutes/status,verbs=update

// udpRouteKind is the UDPRoute row of the table of route kinds.
var udpRouteKind = rowOf(kindSpec[gwapiv1.UDPRoute, gwapiv1.UDPRouteList]{
	gvk:   schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "UDPRoute"},
	items: func(l *gwapiv1.UDPRouteList) []gwapiv1.UDPRoute { return l.Items },
	common: func(rt *gwapiv1.UDPRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: udpBackendKeys,
	input:       func(in *translator.Input) *[]gwapiv1.UDPRoute { return &in.UDPRoutes },
})

// udpBackendKeys are the Services a UDPRoute's rules send datagrams to: their
// backendRefs (UDPRoutes have no filters).
func udpBackendKeys(rt *gwapiv1.UDPRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := range rt.Spec.Rules {
		for j := range rt.Spec.Rules[i].BackendRefs {
			keys = appendServiceKey(keys, rt.Namespace, &rt.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
		}
	}
	return keys
}

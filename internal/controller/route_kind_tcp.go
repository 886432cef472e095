//nolint:dupl // every route kind's row has this shape over its own API types
package controller

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=tcproutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=tcproutes/status,verbs=update

// tcpRouteKind is the TCPRoute row of the table of route kinds.
var tcpRouteKind = rowOf(kindSpec[gwapiv1.TCPRoute, gwapiv1.TCPRouteList]{
	gvk:   schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "TCPRoute"},
	items: func(l *gwapiv1.TCPRouteList) []gwapiv1.TCPRoute { return l.Items },
	common: func(rt *gwapiv1.TCPRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: tcpBackendKeys,
	input:       func(in *translator.Input) *[]gwapiv1.TCPRoute { return &in.TCPRoutes },
})

// tcpBackendKeys are the Services a TCPRoute's rules send connections to: their
// backendRefs (TCPRoutes have no filters).
func tcpBackendKeys(rt *gwapiv1.TCPRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := range rt.Spec.Rules {
		for j := range rt.Spec.Rules[i].BackendRefs {
			keys = appendServiceKey(keys, rt.Namespace, &rt.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
		}
	}
	return keys
}

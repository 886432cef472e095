package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes/status,verbs=update

// grpcRouteKind is the GRPCRoute row of the table of route kinds.
var grpcRouteKind = rowOf(kindSpec[gwapiv1.GRPCRoute, gwapiv1.GRPCRouteList]{
	gvk:   gwapiv1.SchemeGroupVersion.WithKind("GRPCRoute"),
	items: func(l *gwapiv1.GRPCRouteList) []gwapiv1.GRPCRoute { return l.Items },
	common: func(rt *gwapiv1.GRPCRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: grpcRouteBackendKeys,
	input:       func(in *translator.Input) *[]gwapiv1.GRPCRoute { return &in.GRPCRoutes },
})

// grpcRouteBackendKeys are the Services a GRPCRoute's rules send traffic to: backendRefs
// and the backends of RequestMirror filters, on rules and on backendRefs.
func grpcRouteBackendKeys(rt *gwapiv1.GRPCRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	mirrors := func(fs []gwapiv1.GRPCRouteFilter) {
		for _, f := range fs {
			if f.Type == gwapiv1.GRPCRouteFilterRequestMirror && f.RequestMirror != nil {
				keys = appendServiceKey(keys, rt.Namespace, &f.RequestMirror.BackendRef)
			}
		}
	}
	for _, rule := range rt.Spec.Rules {
		mirrors(rule.Filters)
		for _, b := range rule.BackendRefs {
			keys = appendServiceKey(keys, rt.Namespace, &b.BackendObjectReference)
			mirrors(b.Filters)
		}
	}
	return keys
}

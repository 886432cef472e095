//nolint:dupl // every route kind's row has this shape over its own API types
package controller

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes/status,verbs=update

// grpcRouteKind is the GRPCRoute row of the table of route kinds.
var grpcRouteKind = rowOf(kindSpec[gwapiv1.GRPCRoute, gwapiv1.GRPCRouteList]{
	gvk:   schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "GRPCRoute"},
	items: func(l *gwapiv1.GRPCRouteList) []gwapiv1.GRPCRoute { return l.Items },
	common: func(rt *gwapiv1.GRPCRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: func(rt *gwapiv1.GRPCRoute) []client.ObjectKey { return grpcBackends.keys(rt.Namespace, rt.Spec.Rules) },
	input:       func(in *translator.Input) *[]gwapiv1.GRPCRoute { return &in.GRPCRoutes },
})

// grpcBackends says where a GRPCRoute's rules keep their backends.
var grpcBackends = mirroredBackends[gwapiv1.GRPCRouteRule, gwapiv1.GRPCBackendRef, gwapiv1.GRPCRouteFilter]{
	rule: func(r *gwapiv1.GRPCRouteRule) ([]gwapiv1.GRPCRouteFilter, []gwapiv1.GRPCBackendRef) {
		return r.Filters, r.BackendRefs
	},
	ref: func(b *gwapiv1.GRPCBackendRef) (*gwapiv1.BackendObjectReference, []gwapiv1.GRPCRouteFilter) {
		return &b.BackendObjectReference, b.Filters
	},
	mirror: func(f *gwapiv1.GRPCRouteFilter) *gwapiv1.BackendObjectReference {
		if f.Type == gwapiv1.GRPCRouteFilterRequestMirror && f.RequestMirror != nil {
			return &f.RequestMirror.BackendRef
		}
		return nil
	},
}

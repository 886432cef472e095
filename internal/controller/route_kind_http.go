//nolint:dupl // every route kind's row has this shape over its own API types
package controller

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes/status,verbs=update

// httpRouteKind is the HTTPRoute row of the table of route kinds.
var httpRouteKind = rowOf(kindSpec[gwapiv1.HTTPRoute, gwapiv1.HTTPRouteList]{
	gvk:   schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "HTTPRoute"},
	items: func(l *gwapiv1.HTTPRouteList) []gwapiv1.HTTPRoute { return l.Items },
	common: func(rt *gwapiv1.HTTPRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: func(rt *gwapiv1.HTTPRoute) []client.ObjectKey { return httpBackends.keys(rt.Namespace, rt.Spec.Rules) },
	input:       func(in *translator.Input) *[]gwapiv1.HTTPRoute { return &in.HTTPRoutes },
})

// httpBackends says where an HTTPRoute's rules keep their backends.
var httpBackends = mirroredBackends[gwapiv1.HTTPRouteRule, gwapiv1.HTTPBackendRef, gwapiv1.HTTPRouteFilter]{
	rule: func(r *gwapiv1.HTTPRouteRule) ([]gwapiv1.HTTPRouteFilter, []gwapiv1.HTTPBackendRef) {
		return r.Filters, r.BackendRefs
	},
	ref: func(b *gwapiv1.HTTPBackendRef) (*gwapiv1.BackendObjectReference, []gwapiv1.HTTPRouteFilter) {
		return &b.BackendObjectReference, b.Filters
	},
	mirror: func(f *gwapiv1.HTTPRouteFilter) *gwapiv1.BackendObjectReference {
		if f.Type == gwapiv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil {
			return &f.RequestMirror.BackendRef
		}
		return nil
	},
}

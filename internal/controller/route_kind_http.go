package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes/status,verbs=update

// httpRouteKind is the HTTPRoute row of the table of route kinds.
var httpRouteKind = rowOf(kindSpec[gwapiv1.HTTPRoute, gwapiv1.HTTPRouteList]{
	gvk:   gwapiv1.SchemeGroupVersion.WithKind("HTTPRoute"),
	items: func(l *gwapiv1.HTTPRouteList) []gwapiv1.HTTPRoute { return l.Items },
	common: func(rt *gwapiv1.HTTPRoute) (*gwapiv1.CommonRouteSpec, *gwapiv1.RouteStatus) {
		return &rt.Spec.CommonRouteSpec, &rt.Status.RouteStatus
	},
	backendKeys: httpRouteBackendKeys,
	input:       func(in *translator.Input) *[]gwapiv1.HTTPRoute { return &in.HTTPRoutes },
})

// httpRouteBackendKeys are the Services an HTTPRoute's rules send traffic to: backendRefs
// and the backends of RequestMirror filters, on rules and on backendRefs.
func httpRouteBackendKeys(rt *gwapiv1.HTTPRoute) []client.ObjectKey {
	var keys []client.ObjectKey
	mirrors := func(fs []gwapiv1.HTTPRouteFilter) {
		for _, f := range fs {
			if f.Type == gwapiv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil {
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

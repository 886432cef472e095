package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// indexGatewayFilterServices indexes Gateways by the "namespace/name" of the Services
// their listeners' ExternalAuth filters ask (listenerFilterServiceKeys).
const indexGatewayFilterServices = "caddygateway.io/gateway-filter-services"

// listenerFilterServiceKeys are the distinct Services the ExternalAuth filters of
// listeners name (filters.requests[].externalAuth.backendRef of kind Service), their
// namespace defaulting to ns, that of the listeners' owner.
func listenerFilterServiceKeys(ns string, listeners []gwapiv1.Listener) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := range listeners {
		f := listeners[i].Filters
		if f == nil {
			continue
		}
		for _, rf := range f.Requests {
			if rf.ExternalAuth == nil {
				continue
			}
			ref := &rf.ExternalAuth.BackendRef
			if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
				continue
			}
			key := client.ObjectKey{Namespace: ns, Name: string(ref.Name)}
			if ref.Namespace != nil {
				key.Namespace = string(*ref.Namespace)
			}
			if !containsKey(keys, key) {
				keys = append(keys, key)
			}
		}
	}
	return keys
}

// gatewayFilterServiceKeys is the indexGatewayFilterServices index function.
func gatewayFilterServiceKeys(o client.Object) []string {
	gw := o.(*gwapiv1.Gateway)
	return keyStrings(listenerFilterServiceKeys(gw.Namespace, gw.Spec.Listeners))
}

// filterServiceKeys are the Services the listener filters of gw and of its
// ListenerSets sets name; a key may repeat across sets (the backends memo dedupes).
func filterServiceKeys(gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet) []client.ObjectKey {
	keys := listenerFilterServiceKeys(gw.Namespace, gw.Spec.Listeners)
	for i := range sets {
		keys = append(keys, listenerFilterServiceKeys(sets[i].Namespace, setListeners(&sets[i]))...)
	}
	return keys
}

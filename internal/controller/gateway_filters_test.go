package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// The Service a listener's ExternalAuth filter asks is read for the translation, and
// one created after its Gateway was reconciled is noticed.
func TestGatewayNoticesLateListenerFilterService(t *testing.T) {
	t.Parallel()
	l := gwapiv1.Listener{
		Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80,
		Filters: &gwapiv1.ListenerFilters{Requests: []gwapiv1.ListenerFilter{{
			Type: gwapiv1.ListenerFilterExternalAuth,
			ExternalAuth: &gwapiv1.HTTPExternalAuthFilter{
				ExternalAuthProtocol: gwapiv1.HTTPRouteExternalAuthHTTPProtocol,
				BackendRef:           gwapiv1.BackendObjectReference{Name: "late-authz", Port: new(gwapiv1.PortNumber(9000))},
				HTTPAuthConfig:       &gwapiv1.HTTPAuthConfig{AllowedResponseHeaders: []string{"X-User"}},
			},
		}}},
	}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(l))
	f.waitGateway(t, listenerCondition("http", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionFalse,
		"InvalidListenerFilterRef"))
	create(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "late-authz"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 9000}}},
	})
	f.waitGateway(t, listenerCondition("http", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))
}

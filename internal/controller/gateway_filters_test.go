package controller_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// askService is a listener's filters: one ExternalAuth filter asking the Service name
// of the listener's owner's namespace.
func askService(name string) *gwapiv1.ListenerFilters {
	return &gwapiv1.ListenerFilters{Requests: []gwapiv1.ListenerFilter{{
		Type: gwapiv1.ListenerFilterExternalAuth,
		ExternalAuth: &gwapiv1.HTTPExternalAuthFilter{
			ExternalAuthProtocol: gwapiv1.HTTPRouteExternalAuthHTTPProtocol,
			BackendRef:           gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(name), Port: new(gwapiv1.PortNumber(9000))},
			HTTPAuthConfig:       &gwapiv1.HTTPAuthConfig{AllowedResponseHeaders: []string{"X-User"}},
		},
	}}}
}

// createAuthService creates the Service ns/name of port 9000.
func createAuthService(t *testing.T, ns, name string) {
	t.Helper()
	create(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 9000}}},
	})
}

// The Service a listener's ExternalAuth filter asks is read for the translation, and
// one created after its Gateway was reconciled is noticed.
func TestGatewayNoticesLateListenerFilterService(t *testing.T) {
	t.Parallel()
	l := gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80, Filters: askService("late-authz")}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(l))
	f.waitGateway(t, listenerCondition("http", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionFalse,
		"InvalidListenerFilterRef"))
	createAuthService(t, f.ns, "late-authz")
	f.waitGateway(t, listenerCondition("http", string(gwapiv1.ListenerConditionResolvedRefs), metav1.ConditionTrue,
		string(gwapiv1.ListenerReasonResolvedRefs)))
}

// A ListenerSet's listener filter asks a Service of the set's namespace: it is read for
// the translation, and one created later is noticed.
func TestListenerSetNoticesLateListenerFilterService(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, func(gw *gwapiv1.Gateway) {
		all := gwapiv1.NamespacesFromAll
		gw.Spec.AllowedListeners = &gwapiv1.AllowedListeners{Namespaces: &gwapiv1.ListenerNamespaces{From: &all}}
	})
	teamNS := newNamespace(t)
	ls := newListenerSet(teamNS, "team", f.ns, f.gateway.Name, 8081)
	ls.Spec.Listeners[0].Filters = askService("late-authz")
	create(t, ls)
	resolved := func(want metav1.ConditionStatus) func(*gwapiv1.ListenerSet) error {
		return func(ls *gwapiv1.ListenerSet) error {
			if len(ls.Status.Listeners) != 1 {
				return fmt.Errorf("listener statuses %+v", ls.Status.Listeners)
			}
			c := meta.FindStatusCondition(ls.Status.Listeners[0].Conditions, string(gwapiv1.ListenerEntryConditionResolvedRefs))
			if c == nil || c.Status != want {
				return fmt.Errorf("ResolvedRefs is %+v, want %s", c, want)
			}
			return nil
		}
	}
	waitFor(t, client.ObjectKeyFromObject(ls), &gwapiv1.ListenerSet{}, resolved(metav1.ConditionFalse))
	createAuthService(t, teamNS, "late-authz")
	waitFor(t, client.ObjectKeyFromObject(ls), &gwapiv1.ListenerSet{}, resolved(metav1.ConditionTrue))
}

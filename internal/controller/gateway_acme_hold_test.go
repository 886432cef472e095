package controller_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/status"
)

// heldMessage is what the AutomaticCertificates condition says of app.example.com while
// the orders are held.
const heldMessage = "app.example.com: not obtained yet, waiting for a ready Caddy pod the CA's validation can reach"

// A Gateway with automatic certificates holds the orders of the names it obtains ahead
// while none of its Caddy pods is Ready: the config emitted leaves them out and the
// listener says it waits for a ready pod. A pod that runs (a push target) but is not
// Ready keeps the hold; when it becomes Ready, the Gateway is reconciled and the config
// emitted obtains the names.
func TestGatewayHoldsACMEOrdersUntilAPodIsReady(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	listeners := withListeners(
		gwapiv1.Listener{Name: "http", Protocol: gwapiv1.HTTPProtocolType, Port: 80},
		gwapiv1.Listener{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
			Hostname: ptr.To[gwapiv1.Hostname]("app.example.com"),
			TLS: &gwapiv1.ListenerTLSConfig{Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{
				"caddygateway.io/automatic-certificates": "true"}}},
	)
	spec := v1alpha1.CaddyProxyConfigSpec{
		ACME:         &v1alpha1.ACMESpec{Directory: ptr.To("https://ca.internal.example/acme/directory")},
		ControlPlane: &v1alpha1.ControlPlaneSpec{AdminPort: &port},
	}
	f := newFixture(t, spec, listeners)
	key := client.ObjectKeyFromObject(f.gateway)
	held := func() error {
		if got, err := automated(controller.LastEmitted(key)); err != nil || got != nil {
			return fmt.Errorf("names obtained ahead %v (%v), want none while no pod is ready", got, err)
		}
		return nil
	}
	eventually(t, waitTimeout, held)
	f.waitGateway(t, automaticMessage(heldMessage))

	dep := waitFor(t, f.workload(), &appsv1.Deployment{}, exists)
	pod := fleetPod(newReplicaSet(t, dep, "current", "aaaa", nil), "a", nil)
	startPod(t, pod)
	consistently(t, quietPeriod, held)

	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if err := k8s.Status().Update(ctxFor(t), pod); err != nil {
		t.Fatalf("marking pod %s Ready: %v", pod.Name, err)
	}
	eventually(t, waitTimeout, func() error {
		if got, err := automated(controller.LastEmitted(key)); err != nil || !slices.Equal(got, []string{"app.example.com"}) {
			return fmt.Errorf("names obtained ahead %v (%v), want app.example.com once a pod is ready", got, err)
		}
		return nil
	})
	f.waitGateway(t, automaticMessage("app.example.com: not obtained yet"))

	// Pods that all turn unready keep their config: the Gateway had a ready pod.
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.Now()}}
	if err := k8s.Status().Update(ctxFor(t), pod); err != nil {
		t.Fatalf("marking pod %s unready: %v", pod.Name, err)
	}
	consistently(t, quietPeriod, func() error {
		if got, err := automated(controller.LastEmitted(key)); err != nil || !slices.Equal(got, []string{"app.example.com"}) {
			return fmt.Errorf("names obtained ahead %v (%v) after the pod turned unready, want app.example.com still", got, err)
		}
		return nil
	})
}

// automated is tls.certificates.automate of the config cfg; an error before any config.
func automated(cfg []byte) ([]string, error) {
	if cfg == nil {
		return nil, fmt.Errorf("no config emitted yet")
	}
	var c struct {
		Apps struct {
			TLS *struct {
				Certificates *struct {
					Automate []string `json:"automate"`
				} `json:"certificates"`
			} `json:"tls"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, err
	}
	if c.Apps.TLS == nil {
		return nil, fmt.Errorf("the config has no tls app")
	}
	if c.Apps.TLS.Certificates == nil {
		return nil, nil
	}
	return c.Apps.TLS.Certificates.Automate, nil
}

// automaticMessage checks that listener https's AutomaticCertificates condition is
// Unknown/Pending with message want.
func automaticMessage(want string) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		for _, l := range gw.Status.Listeners {
			if l.Name != "https" {
				continue
			}
			c := meta.FindStatusCondition(l.Conditions, status.ListenerConditionAutomaticCertificates)
			if c == nil || c.Status != metav1.ConditionUnknown || c.Reason != status.ReasonCertificatesPending || c.Message != want {
				return fmt.Errorf("AutomaticCertificates %+v, want Unknown/%s %q", c, status.ReasonCertificatesPending, want)
			}
			return nil
		}
		return fmt.Errorf("no status for listener https")
	}
}

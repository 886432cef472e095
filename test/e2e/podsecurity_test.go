//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestPodSecurityRestricted runs a Gateway in a namespace that enforces the restricted Pod
// Security Standard: its Caddy pods are admitted as the operator renders them by default,
// they mount no ServiceAccount token, the Gateway turns Programmed and a route is served.
func TestPodSecurityRestricted(t *testing.T) {
	const gwName, host = "restricted", "psa.example.com"
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	routeNS := cfg.Namespace()
	ns := envconf.RandomName("e2e-psa", 14)
	class := envconf.RandomName("e2e-psa", 16)
	createAll(ctx, t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}})
	gw := httpGateway(ns, gwName, class)
	gw.Spec.Listeners[0].AllowedRoutes = &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: ptr.To(gwapiv1.NamespacesFromAll)}}
	objs := []client.Object{
		&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: gwName, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
			Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
		}},
		gatewayClass(class, ns, gwName), gw,
	}
	objs = append(objs, utils.EchoBackend(routeNS, "echo-psa")...)
	objs = append(objs, httpRoute(routeNS, "psa", ns, gwName, "http", []string{host}, toBackends(backendRef("", "echo-psa", 1))))
	createAll(ctx, t, c, objs...)

	pod := readyPod(ctx, t, c, ns, gwName)
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("pod %s: automountServiceAccountToken is %v, want false", pod.Name, pod.Spec.AutomountServiceAccountToken)
	}
	for _, ctr := range pod.Spec.Containers {
		for _, m := range ctr.VolumeMounts {
			if m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount" {
				t.Errorf("pod %s container %s mounts a ServiceAccount token", pod.Name, ctr.Name)
			}
		}
	}
	programmed(ctx, t, c, ns, gwName, "")
	ip := serviceIP(ctx, t, c, ns, gwName)
	expectVia(ctx, t, plainClient, "http", joinPort(ip, listenerPort), host, "/", http.StatusOK, fmt.Sprintf("backend=%s", "echo-psa"))
}

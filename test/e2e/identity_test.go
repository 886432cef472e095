//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestAdminIdentity runs two Gateways whose admin certificates one CA Issuer in the
// operator's namespace signs (controlPlane.tls.issuerRef): the first Gateway's
// admin-proxy accepts the operator's certificate for it and refuses the second's in the
// TLS handshake, although the same CA signed both. Deleting the first Gateway then leaves
// nothing of it, neither in its namespace nor in the operator's.
func TestAdminIdentity(t *testing.T) {
	const gwA, gwB, params = "ident-a", "ident-b", "ident"
	class := envconf.RandomName("e2e-ident", 16)
	issuer := envconf.RandomName("ident-ca", 16)
	f := features.New("per-Gateway admin identity").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			ca, err := certs.NewCA("e2e-shared-admin-ca", certs.IssueOptions{Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			caSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: utils.OperatorNamespace, Name: issuer},
				Type: corev1.SecretTypeTLS, Data: certs.SecretData(ca, ca)}
			caIssuer := certManagerObject(certs.KindIssuer, utils.OperatorNamespace, issuer,
				map[string]any{"ca": map[string]any{"secretName": issuer}})
			t.Cleanup(func() { deleteAll(context.Background(), t, c, caIssuer, caSecret) })
			createAll(ctx, t, c, append(utils.EchoBackend(ns, "ident-echo"), caSecret, caIssuer,
				&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: params, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
					Workload:     &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](1)},
					Service:      &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
					ControlPlane: &v1alpha1.ControlPlaneSpec{TLS: &v1alpha1.AdminTLSSpec{IssuerRef: &v1alpha1.IssuerReference{Kind: certs.KindIssuer, Name: issuer}}},
				}},
				gatewayClass(class, ns, params), httpGateway(ns, gwA, class), httpGateway(ns, gwB, class),
				catchAllRoute(ns, gwA, gwA, gwA+".example.com", "ident-echo"),
				catchAllRoute(ns, gwB, gwB, gwB+".example.com", "ident-echo"))...)
			for _, gw := range []string{gwA, gwB} {
				allReady(ctx, t, c, ns, gw, 1)
				expect(ctx, t, joinPort(serviceIP(ctx, t, c, ns, gw), listenerPort), gw+".example.com", "/", nil, 200, "backend=ident-echo")
			}
			return ctx
		}).
		Assess("a sibling Gateway's client certificate of the same CA is refused", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			pod := runningPod(ctx, t, c, ns, gwA)
			own, err := newAdminClient(ctx, c, ns, gwA, true)
			if err != nil {
				t.Fatal(err)
			}
			sibling, err := newAdminClient(ctx, c, ns, gwB, true)
			if err != nil {
				t.Fatal(err)
			}
			if !own.tls.RootCAs.Equal(sibling.tls.RootCAs) {
				t.Fatal("the two Gateways' trust bundles differ: they must share the one CA")
			}
			if code, body, err := own.do(ctx, pod.Status.PodIP, adminPort, http.MethodGet, "/config/admin", nil); err != nil || code != http.StatusOK {
				t.Fatalf("GET /config/admin with Gateway %s's own certificate: want 200, got %d %q %v", gwA, code, body, err)
			}
			code, _, err := own.withCertOf(sibling).do(ctx, pod.Status.PodIP, adminPort, http.MethodGet, "/config/admin", nil)
			if err == nil || !strings.Contains(err.Error(), "bad certificate") {
				t.Fatalf("Gateway %s's certificate at Gateway %s's admin-proxy: want the TLS alert 'bad certificate', got status %d, error %v", gwB, gwA, code, err)
			}
			t.Logf("Gateway %s's certificate refused by Gateway %s: %v", gwB, gwA, err)
			return ctx
		}).
		Assess("deleting a Gateway leaves nothing of it in either namespace", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			var gw gwapiv1.Gateway
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: gwA}, &gw); err != nil {
				t.Fatal(err)
			}
			if n := len(leftovers(ctx, t, c, &gw)); n == 0 {
				t.Fatal("found none of the Gateway's objects before deleting it: the check would prove nothing")
			}
			deleteAll(ctx, t, c, &gw)
			start := time.Now()
			poll(ctx, t, "nothing of Gateway "+gwA+" left", func(ctx context.Context) error {
				if left := leftovers(ctx, t, c, &gw); len(left) > 0 {
					return fmt.Errorf("still there: %v", left)
				}
				return nil
			})
			t.Logf("everything of Gateway %s gone %v after its deletion", gwA, time.Since(start).Round(100*time.Millisecond))
			// The sibling is untouched.
			expect(ctx, t, joinPort(serviceIP(ctx, t, c, ns, gwB), listenerPort), gwB+".example.com", "/", nil, 200, "backend=ident-echo")
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// leftovers lists the objects of gw that remain: in its namespace those with its fleet
// labels, in the operator's namespace those labelled with its UID.
func leftovers(ctx context.Context, t *testing.T, c client.Client, gw *gwapiv1.Gateway) []string {
	t.Helper()
	var out []string
	add := func(ns string, sel client.MatchingLabels, list client.ObjectList, kind string) {
		if err := c.List(ctx, list, client.InNamespace(ns), sel); err != nil {
			t.Fatalf("listing %s in %s: %v", kind, ns, err)
		}
		items, err := metaItems(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range items {
			out = append(out, kind+" "+ns+"/"+name)
		}
	}
	fleet := client.MatchingLabels(infra.SelectorLabels(gw.Name))
	for kind, list := range map[string]client.ObjectList{
		"Secret": &corev1.SecretList{}, "ConfigMap": &corev1.ConfigMapList{}, "ServiceAccount": &corev1.ServiceAccountList{},
		"Service": &corev1.ServiceList{}, "Deployment": &appsv1.DeploymentList{}, "Pod": &corev1.PodList{},
		"NetworkPolicy": &networkingv1.NetworkPolicyList{},
	} {
		add(gw.Namespace, fleet, list, kind)
	}
	owned := client.MatchingLabels{certs.LabelGatewayUID: string(gw.UID)}
	add(utils.OperatorNamespace, owned, &corev1.SecretList{}, "Secret")
	for _, kind := range []string{certs.KindCertificate, certs.KindIssuer} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(certs.CertManagerAPIVersion)
		list.SetKind(kind + "List")
		add(utils.OperatorNamespace, owned, list, kind)
	}
	return out
}

// metaItems returns the names of a list's items.
func metaItems(list client.ObjectList) ([]string, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, err
		}
		names = append(names, m.GetName())
	}
	return names, nil
}

// TestAdminCARotation deletes the CA Secret of a Gateway's default cert-manager chain:
// cert-manager issues a new CA, the operator trusts both CAs, has the server certificate
// reissued at once and its client certificate once the new bundle had time to reach the
// pod. A route added every few seconds throughout must each be served; the test reports
// the slowest, which is how long the admin channel was unusable, if at all.
func TestAdminCARotation(t *testing.T) {
	const gwName, params = "rotate", "rotate"
	class := envconf.RandomName("e2e-rotate", 16)
	f := features.New("a CA rotation keeps the admin channel working").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			createAll(ctx, t, c, append(utils.EchoBackend(ns, "rotate-echo"),
				onePodParams(ns, params),
				gatewayClass(class, ns, params), httpGateway(ns, gwName, class),
				catchAllRoute(ns, "rotate-0", gwName, "r0.rotate.example.com", "rotate-echo"))...)
			allReady(ctx, t, c, ns, gwName, 1)
			expect(ctx, t, joinPort(serviceIP(ctx, t, c, ns, gwName), listenerPort), "r0.rotate.example.com", "/", nil, 200, "backend=rotate-echo")
			return ctx
		}).
		Assess("route changes are served throughout the rotation", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			n := certs.NamesFor(ns, gwName)
			secret := func(name string) *corev1.Secret {
				var s corev1.Secret
				if err := c.Get(ctx, client.ObjectKey{Namespace: utils.OperatorNamespace, Name: name}, &s); client.IgnoreNotFound(err) != nil {
					t.Fatal(err)
				}
				return &s
			}
			oldCA := secret(n.CA)
			if len(oldCA.Data[certs.SecretCertKey]) == 0 {
				t.Fatalf("no CA Secret %s/%s", utils.OperatorNamespace, n.CA)
			}
			deleteAll(ctx, t, c, oldCA)
			start := time.Now()
			var held []string // the CAs the CA Secret held during the rotation, in order
			// rotated reports when both leaves chain to a new CA.
			rotated := func() bool {
				ca := secret(n.CA).Data[certs.SecretCertKey]
				if d := describeCAs(ca); len(ca) > 0 && (len(held) == 0 || held[len(held)-1] != d) {
					held = append(held, d)
				}
				if len(ca) == 0 || string(ca) == string(oldCA.Data[certs.SecretCertKey]) {
					return false
				}
				return certs.ChainsTo(secret(n.Server).Data[certs.SecretCertKey], ca, time.Now()) &&
					certs.ChainsTo(secret(n.Client).Data[certs.SecretCertKey], ca, time.Now())
			}
			addr := joinPort(serviceIP(ctx, t, c, ns, gwName), listenerPort)
			var slowest time.Duration
			var routes int
			for done := false; !done; {
				done = rotated() // one more route after both leaves moved
				if time.Since(start) > 8*time.Minute {
					t.Fatalf("the leaves did not move to the new CA within 8 minutes")
				}
				routes++
				host := fmt.Sprintf("r%d.rotate.example.com", routes)
				createAll(ctx, t, c, catchAllRoute(ns, fmt.Sprintf("rotate-%d", routes), gwName, host, "rotate-echo"))
				began := time.Now()
				expect(ctx, t, addr, host, "/", nil, 200, "backend=rotate-echo")
				if took := time.Since(began); took > slowest {
					slowest = took
				}
				time.Sleep(2 * time.Second)
			}
			trust := secret(n.Trust).Data[certs.SecretCAKey]
			newCA := secret(n.CA).Data[certs.SecretCertKey]
			if !strings.HasPrefix(string(trust), string(newCA)) ||
				!strings.Contains(string(trust), string(oldCA.Data[certs.SecretCertKey])) {
				t.Errorf("the trust bundle %s does not hold the new CA %s first and the previous one %s; the CA Secret held %v",
					describeCAs(trust), describeCAs(newCA), describeCAs(oldCA.Data[certs.SecretCertKey]), held)
			}
			t.Logf("CA rotation: both leaves on the new CA after %v; %d route changes, the slowest served after %v",
				time.Since(start).Round(time.Second), routes, slowest.Round(10*time.Millisecond))
			if slowest > 20*time.Second {
				t.Errorf("a route change took %v to be served during the rotation: the admin channel was down", slowest)
			}
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// describeCAs names the certificates of a PEM bundle by serial and issue time, for
// failure messages.
func describeCAs(pemBytes []byte) string {
	var parts []string
	for _, c := range certs.ParseCertificates(pemBytes) {
		serial := fmt.Sprintf("%x", c.SerialNumber)
		parts = append(parts, fmt.Sprintf("%s(%.8s, %s)", c.Subject.CommonName, serial, c.NotBefore.Format(time.TimeOnly)))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

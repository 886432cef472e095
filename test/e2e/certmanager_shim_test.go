//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestGatewayShimCertificates annotates Gateways for cert-manager's gateway-shim, once
// with an Issuer and once with a ClusterIssuer, the way the Gateway API guides of other
// implementations get their listener certificates. The shim creates a Certificate for
// the HTTPS listener and deletes every other Certificate the Gateway controls: the
// operator's admin certificates must not be among them, the Gateway must be Programmed
// and HTTPS must be served with the certificate the shim had issued.
func TestGatewayShimCertificates(t *testing.T) {
	testenv.Test(t,
		shimGateway("shim-issuer", "cert-manager.io/issuer", certs.KindIssuer),
		shimGateway("shim-cluster", "cert-manager.io/cluster-issuer", certs.KindClusterIssuer))
}

// shimGateway is a Gateway named gwName whose HTTPS listener's certificate the
// gateway-shim issues through a self-signed issuer of kind issuerKind named by annotation.
func shimGateway(gwName, annotation, issuerKind string) features.Feature {
	host := gwName + ".example.com"
	secret := gwName + "-tls"
	class := envconf.RandomName("e2e-"+gwName, 20)
	issuer := certManagerObject(issuerKind, "", envconf.RandomName(gwName, 16), map[string]any{"selfSigned": map[string]any{}})
	return features.New("a Gateway annotated "+annotation).
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			if issuerKind == certs.KindIssuer {
				issuer.SetNamespace(ns)
			}
			gw := httpGateway(ns, gwName, class)
			gw.Annotations = map[string]string{annotation: issuer.GetName()}
			gw.Spec.Listeners = append(gw.Spec.Listeners, gwapiv1.Listener{
				Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(host)),
				TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: gwapiv1.ObjectName(secret)}}},
			})
			createAll(ctx, t, c, append(utils.EchoBackend(ns, gwName+"-echo"), issuer,
				onePodParams(ns, gwName),
				gatewayClass(class, ns, gwName), gw,
				httpRoute(ns, gwName, ns, gwName, "https", []string{host}, toBackends(backendRef("", gwName+"-echo", 1))))...)
			// Neither the shim's Certificate nor its Secret goes with the Gateway in every
			// cluster (no garbage collection of the Secret).
			t.Cleanup(func() {
				deleteAll(context.Background(), t, c,
					certManagerObject(certs.KindCertificate, ns, secret, nil),
					&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns}})
			})
			return ctx
		}).
		Assess("the shim issues the listener's Certificate and deletes none of the operator's", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			gw := &gwapiv1.Gateway{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: gwName}, gw); err != nil {
				t.Fatal(err)
			}
			shim := certManagerObject(certs.KindCertificate, ns, secret, nil)
			poll(ctx, t, "the gateway-shim's Certificate "+secret, func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(shim), shim); err != nil {
					return err
				}
				if !metav1.IsControlledBy(shim, gw) {
					return fmt.Errorf("Certificate %s is not controlled by Gateway %s: %+v", secret, gwName, shim.GetOwnerReferences())
				}
				return nil
			})
			// The shim deletes in the same sync that created its Certificate.
			adminCertificatesKept(ctx, t, c, ns, gwName)
			return ctx
		}).
		Assess("the Gateway is Programmed and serves HTTPS with the shim's certificate", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			roots, leaf := issuedCertificate(ctx, t, c, ns, secret)
			addr := joinPort(serviceIP(ctx, t, c, ns, gwName), httpsPort)
			r := expectVia(ctx, t, tlsClient(roots, host), "https", addr, host, "/shim", http.StatusOK,
				"backend="+gwName+"-echo path=/shim")
			if !bytes.Equal(r.leaf, leaf) {
				t.Fatalf("the served certificate is not the one the gateway-shim had issued into Secret %s", secret)
			}
			if !slices.Contains(r.dnsNames, host) {
				t.Fatalf("served certificate DNS names %v, want %s", r.dnsNames, host)
			}
			listenerCondition(ctx, t, c, ns, gwName, "https", string(gwapiv1.ListenerConditionProgrammed),
				metav1.ConditionTrue, string(gwapiv1.ListenerReasonProgrammed))
			// The shim syncs again on every change of the Gateway (its status included).
			adminCertificatesKept(ctx, t, c, ns, gwName)
			return ctx
		}).Feature()
}

// adminCertificatesKept waits for the admin Certificates of Gateway gwName (in the
// operator's namespace) and checks that no Event says the gateway-shim deleted a
// Certificate of that Gateway.
func adminCertificatesKept(ctx context.Context, t *testing.T, c client.Client, ns, gwName string) {
	t.Helper()
	n := certs.NamesFor(ns, gwName)
	for _, name := range []string{n.CA, n.Server, n.Client} {
		poll(ctx, t, "admin Certificate "+name, func(ctx context.Context) error {
			key := client.ObjectKey{Namespace: utils.OperatorNamespace, Name: name}
			return c.Get(ctx, key, certManagerObject(certs.KindCertificate, key.Namespace, name, nil))
		})
	}
	// The operator restores a deleted Certificate within seconds: only the shim's Events
	// tell that it deleted one.
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "Gateway" && e.InvolvedObject.Name == gwName && e.Reason == "DeleteCertificate" {
			t.Errorf("the gateway-shim deleted a Certificate of Gateway %s: %s", gwName, e.Message)
		}
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// edgeGateway has an HTTP listener "http" on 80 and an HTTPS listener "https" on 443
	// for appHost, whose certificate cert-manager issues into edgeSecret.
	edgeGateway = "edge"
	edgeSecret  = "edge-app-tls"
	appHost     = "app.example.com"
	httpsPort   = 443

	// splitRequests is how many requests the weighted split is measured over.
	splitRequests = 200
	// The light backend has weight 10 of 100. The gateway_smooth selection policy is a
	// deterministic cycle of period 100 that continues across reloads, so any 200
	// consecutive requests give it exactly 20. The bound is nonetheless that of a random 90/10 split, so that a faithful but
	// randomised implementation passes too: Binomial(200, 0.1) has mean 20 and standard
	// deviation sqrt(200·0.1·0.9) ≈ 4.2; 20 ± 12 is about ±2.8σ, which a random split
	// leaves in fewer than 1 run in 200, while an ignored weight (50/50 → ~100) or a
	// backend never chosen (0) is far outside.
	splitLightMin, splitLightMax = 8, 32
)

// TestRoutingEdge proves weighted splitting, HTTPS with a cert-manager certificate and the
// HTTP→HTTPS redirect through one Gateway's Service address.
func TestRoutingEdge(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-edge", 16)
	gw := httpGateway(ns, edgeGateway, class)
	gw.Spec.Listeners = append(gw.Spec.Listeners, gwapiv1.Listener{
		Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(appHost)),
		TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: edgeSecret}}},
	})
	createAll(ctx, t, c,
		&v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Name: edgeGateway, Namespace: ns}, Spec: v1alpha1.CaddyProxyConfigSpec{
			Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)},
		}},
		gatewayClass(class, ns, edgeGateway), gw)
	ip := serviceIP(ctx, t, c, ns, edgeGateway)
	testenv.Test(t, weightedSplit(joinPort(ip, listenerPort)), httpsCertManager(joinPort(ip, httpsPort)),
		httpsRedirect(joinPort(ip, listenerPort)))
}

// weightedSplit sends splitRequests requests to a route with backends weighted 90/10.
func weightedSplit(addr string) features.Feature {
	const host = "split.example.com"
	return features.New("a 90/10 weighted split").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := append(utils.EchoBackend(ns, "echo-heavy"), utils.EchoBackend(ns, "echo-light")...)
			objs = append(objs, httpRoute(ns, "split", ns, edgeGateway, "http", []string{host},
				toBackends(backendRef("", "echo-heavy", 90), backendRef("", "echo-light", 10))))
			createAll(ctx, t, c, objs...)
			return ctx
		}).
		Assess("200 requests split within the stated tolerance", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			// Both backends must answer before counting: a backend whose pod is not yet
			// Ready would turn its share into errors, not into the other's share.
			seen := map[string]bool{}
			poll(ctx, t, "both backends answer through the split route", func(ctx context.Context) error {
				for range 20 {
					r, err := send(ctx, plainClient, "http", addr, host, "/")
					if err != nil {
						return err
					}
					if r.code != http.StatusOK {
						return fmt.Errorf("got %d %q", r.code, r.body)
					}
					seen[backendName(r.body)] = true
				}
				if !seen["echo-heavy"] || !seen["echo-light"] {
					return fmt.Errorf("backends seen so far: %v", seen)
				}
				return nil
			})
			counts := map[string]int{}
			for i := range splitRequests {
				r, err := send(ctx, plainClient, "http", addr, host, fmt.Sprintf("/req/%d", i))
				if err != nil || r.code != http.StatusOK {
					t.Fatalf("request %d: want 200, got %d %q %v", i, r.code, r.body, err)
				}
				counts[backendName(r.body)]++
			}
			t.Logf("split over %d requests: %v (light bound [%d, %d])", splitRequests, counts, splitLightMin, splitLightMax)
			if n := counts["echo-heavy"] + counts["echo-light"]; n != splitRequests {
				t.Fatalf("responses from unexpected backends: %v", counts)
			}
			if l := counts["echo-light"]; l < splitLightMin || l > splitLightMax {
				t.Fatalf("weight-10 backend got %d of %d requests, want [%d, %d]", l, splitRequests, splitLightMin, splitLightMax)
			}
			return ctx
		}).Feature()
}

// backendName is NAME in the echo backend's "backend=NAME path=..." first line.
func backendName(body string) string {
	first, _, _ := strings.Cut(body, "\n")
	name, _, _ := strings.Cut(strings.TrimPrefix(first, "backend="), " ")
	return name
}

// httpsCertManager starts with the HTTPS listener pointing at a Secret that does not exist
// yet, then lets cert-manager issue it, and requests through TLS trusting only the issued
// certificate's CA: the operator must notice the new Secret by itself.
func httpsCertManager(addr string) features.Feature {
	issuer := certManagerObject("Issuer", "", "edge-selfsigned", map[string]any{"selfSigned": map[string]any{}})
	cert := certManagerObject("Certificate", "", "edge-app", map[string]any{
		"secretName": edgeSecret,
		"commonName": appHost,
		"dnsNames":   []any{appHost},
		"issuerRef":  map[string]any{"name": "edge-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
	})
	return features.New("an HTTPS listener serving a cert-manager certificate").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			issuer.SetNamespace(ns)
			cert.SetNamespace(ns)
			createAll(ctx, t, c, append(utils.EchoBackend(ns, "echo-tls"),
				httpRoute(ns, "secure", ns, edgeGateway, "https", []string{appHost}, toBackends(backendRef("", "echo-tls", 1))))...)
			// cert-manager does not delete the Secret with the Certificate.
			t.Cleanup(func() {
				deleteAll(context.Background(), t, c, cert, issuer,
					&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: edgeSecret, Namespace: ns}})
			})
			return ctx
		}).
		Assess("before the Secret exists the listener reports InvalidCertificateRef", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			// Let everything the Setup started settle first (backend up, route processed),
			// so that only the Secret's appearance can bring the listener up afterwards.
			if err := utils.WaitDeploymentAvailable(ctx, c, ns, "echo-tls", pollTimeout); err != nil {
				t.Fatal(err)
			}
			routeParentCondition(ctx, t, c, client.ObjectKey{Namespace: ns, Name: "secure"}, ns, edgeGateway,
				string(gwapiv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwapiv1.RouteReasonAccepted))
			cond := listenerCondition(ctx, t, c, ns, edgeGateway, "https", string(gwapiv1.ListenerConditionResolvedRefs),
				metav1.ConditionFalse, string(gwapiv1.ListenerReasonInvalidCertificateRef))
			t.Logf("https listener: ResolvedRefs=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			return ctx
		}).
		Assess("once cert-manager issues it, TLS with SNI app.example.com reaches the backend", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			for _, o := range []*unstructured.Unstructured{issuer, cert} {
				if err := c.Create(ctx, o); err != nil {
					t.Fatalf("creating %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
			roots, leaf := issuedCertificate(ctx, t, c, cfg.Namespace(), edgeSecret)
			r := expectVia(ctx, t, tlsClient(roots, appHost), "https", addr, appHost, "/secure", http.StatusOK, "backend=echo-tls path=/secure")
			if !slices.Contains(r.dnsNames, appHost) {
				t.Fatalf("served certificate DNS names %v, want %s", r.dnsNames, appHost)
			}
			if !bytes.Equal(r.leaf, leaf) {
				t.Fatalf("the served certificate is not the one cert-manager wrote to Secret %s", edgeSecret)
			}
			t.Logf("served certificate DNS names: %v", r.dnsNames)
			listenerCondition(ctx, t, c, cfg.Namespace(), edgeGateway, "https", string(gwapiv1.ListenerConditionResolvedRefs),
				metav1.ConditionTrue, string(gwapiv1.ListenerReasonResolvedRefs))
			return ctx
		}).Feature()
}

// certManagerObject is a cert-manager.io/v1 object (unstructured: no cert-manager Go types).
func certManagerObject(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}}
}

// issuedCertificate waits for the Secret cert-manager writes and returns a pool holding its
// ca.crt (tls.crt when there is none) and the DER of its leaf certificate.
func issuedCertificate(ctx context.Context, t *testing.T, c client.Client, ns, name string) (*x509.CertPool, []byte) {
	t.Helper()
	var s corev1.Secret
	poll(ctx, t, "cert-manager writes Secret "+name, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			return err
		}
		if len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0 {
			return fmt.Errorf("Secret %s has no certificate yet", name)
		}
		return nil
	})
	ca := s.Data["ca.crt"]
	if len(ca) == 0 {
		ca = s.Data[corev1.TLSCertKey]
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("Secret %s: no PEM certificate in its CA", name)
	}
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		t.Fatalf("Secret %s: tls.crt is not PEM", name)
	}
	return roots, block.Bytes
}

// httpsRedirect attaches a redirect-to-https route to the HTTP listener only.
func httpsRedirect(httpAddr string) features.Feature {
	const path = "/docs/page"
	return features.New("HTTP to HTTPS redirect").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			createAll(ctx, t, c, httpRoute(ns, "to-https", ns, edgeGateway, "http", []string{appHost}, gwapiv1.HTTPRouteRule{
				Filters: []gwapiv1.HTTPRouteFilter{{
					Type: gwapiv1.HTTPRouteFilterRequestRedirect,
					RequestRedirect: &gwapiv1.HTTPRequestRedirectFilter{
						Scheme: ptr.To("https"), StatusCode: ptr.To(http.StatusMovedPermanently),
					},
				}},
			}))
			return ctx
		}).
		Assess("plain HTTP answers 301 to https://app.example.com/...", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			want := "https://" + appHost + path
			var r response
			poll(ctx, t, "GET http://"+appHost+path+" redirects", func(ctx context.Context) error {
				var err error
				if r, err = send(ctx, plainClient, "http", httpAddr, appHost, path); err != nil {
					return err
				}
				if r.code != http.StatusMovedPermanently || r.location != want {
					return fmt.Errorf("got %d Location %q, want 301 Location %q", r.code, r.location, want)
				}
				return nil
			})
			t.Logf("redirect: %d Location %s", r.code, r.location)
			return ctx
		}).Feature()
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// tlsGateway serves three listeners on port 443: HTTPS for webHost, TLS
	// Passthrough for passHost and TLS Terminate for termHost.
	tlsGateway = "tls-shared"
	webHost    = "web.example.com"
	passHost   = "pass.example.com"
	termHost   = "term.example.com"
)

// TestTLSSharedPort: one Gateway port, 443, serves an HTTPS listener (an HTTPRoute), a
// TLS Passthrough listener and a TLS Terminate listener (a TLSRoute each), told apart by
// the server name. Passthrough reaches the backend with the client's own TLS session (the
// backend's certificate, the backend sees the server name); Terminate presents the
// listener's certificate and the backend receives plain bytes; HTTPS keeps answering
// with its own certificate and route.
func TestTLSSharedPort(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-tls", 16)

	gwCA, gwCerts := issue(t, "gateway-ca", webHost, termHost)
	gwWeb, gwTerm := gwCerts[0], gwCerts[1]
	beCA, beCerts := issue(t, "backend-ca", passHost)
	bePass := beCerts[0]

	gw := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: tlsGateway, Namespace: ns},
		Spec: gwapiv1.GatewaySpec{GatewayClassName: gwapiv1.ObjectName(class), Listeners: []gwapiv1.Listener{
			{Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(webHost)),
				TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "gw-web"}}}},
			{Name: "pass", Protocol: gwapiv1.TLSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(passHost)),
				TLS: &gwapiv1.ListenerTLSConfig{Mode: ptr.To(gwapiv1.TLSModePassthrough)}},
			{Name: "term", Protocol: gwapiv1.TLSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(termHost)),
				TLS: &gwapiv1.ListenerTLSConfig{Mode: ptr.To(gwapiv1.TLSModeTerminate),
					CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "gw-term"}}}},
		}},
	}
	objs := []client.Object{
		tlsSecret(ns, "gw-web", gwWeb), tlsSecret(ns, "gw-term", gwTerm), tlsSecret(ns, "backend-tls", bePass),
		onePodParams(ns, tlsGateway), gatewayClass(class, ns, tlsGateway), gw,
		httpRoute(ns, "web", ns, tlsGateway, "https", []string{webHost}, toBackends(backendRef("", "web-echo", 1))),
		tlsRoute(ns, "pass", "pass", passHost, "secure-echo", 443),
		tlsRoute(ns, "term", "term", termHost, "secure-echo", 8080),
	}
	objs = append(objs, utils.EchoBackend(ns, "web-echo")...)
	objs = append(objs, utils.TLSEchoBackend(ns, "secure-echo", "backend-tls")...)
	createAll(ctx, t, c, objs...)

	for _, l := range []string{"https", "pass", "term"} {
		listenerCondition(ctx, t, c, ns, tlsGateway, l, string(gwapiv1.ListenerConditionConflicted),
			metav1.ConditionFalse, string(gwapiv1.ListenerReasonNoConflicts))
		listenerCondition(ctx, t, c, ns, tlsGateway, l, string(gwapiv1.ListenerConditionProgrammed),
			metav1.ConditionTrue, string(gwapiv1.ListenerReasonProgrammed))
	}
	for _, name := range []string{"pass", "term"} {
		route := &gwapiv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		parentCondition(ctx, t, c, route, ns, tlsGateway, string(gwapiv1.RouteConditionAccepted),
			metav1.ConditionTrue, string(gwapiv1.RouteReasonAccepted))
		parentCondition(ctx, t, c, route, ns, tlsGateway, string(gwapiv1.RouteConditionResolvedRefs),
			metav1.ConditionTrue, string(gwapiv1.RouteReasonResolvedRefs))
	}
	addr := joinPort(serviceIP(ctx, t, c, ns, tlsGateway), httpsPort)

	web := expectVia(ctx, t, tlsClient(pool(gwCA), webHost), "https", addr, webHost, "/web", http.StatusOK, "backend=web-echo path=/web")
	sameLeaf(t, "HTTPS", web.leaf, gwWeb)

	pass := expectVia(ctx, t, tlsClient(pool(beCA), passHost), "https", addr, passHost, "/pass", http.StatusOK, `"serverName": "`+passHost+`"`)
	sameLeaf(t, "Passthrough", pass.leaf, bePass)

	term := expectVia(ctx, t, tlsClient(pool(gwCA), termHost), "https", addr, termHost, "/term", http.StatusOK, `"path": "/term"`)
	sameLeaf(t, "Terminate", term.leaf, gwTerm)
	if bytes.Contains([]byte(term.body), []byte(`"tls"`)) {
		t.Fatalf("Terminate: the backend saw a TLS session, want plain bytes: %s", term.body)
	}
	t.Logf("port %d: HTTPS %s, Passthrough %s (backend's certificate), Terminate %s (listener's certificate)",
		httpsPort, webHost, passHost, termHost)
}

// issue makes a CA named ca and one server certificate per name, signed by it.
func issue(t *testing.T, ca string, names ...string) (*certs.KeyPair, []*certs.KeyPair) {
	t.Helper()
	o := certs.IssueOptions{Now: time.Now()}
	root, err := certs.NewCA(ca, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*certs.KeyPair, len(names))
	for i, n := range names {
		if out[i], err = root.IssueServer(n, o); err != nil {
			t.Fatal(err)
		}
	}
	return root, out
}

// tlsSecret is a kubernetes.io/tls Secret holding kp.
func tlsSecret(ns, name string, kp *certs.KeyPair) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: kp.CertPEM, corev1.TLSPrivateKeyKey: kp.KeyPEM},
	}
}

// tlsRoute is a TLSRoute attached to listener section of tlsGateway for hostname,
// sending every connection to port of Service backend.
func tlsRoute(ns, name, section, hostname, backend string, port gwapiv1.PortNumber) *gwapiv1.TLSRoute {
	return &gwapiv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwapiv1.TLSRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{
				Name: tlsGateway, Namespace: ptr.To(gwapiv1.Namespace(ns)), SectionName: ptr.To(gwapiv1.SectionName(section)),
			}}},
			Hostnames: []gwapiv1.Hostname{gwapiv1.Hostname(hostname)},
			Rules: []gwapiv1.TLSRouteRule{{BackendRefs: []gwapiv1.BackendRef{{BackendObjectReference: gwapiv1.BackendObjectReference{
				Name: gwapiv1.ObjectName(backend), Port: ptr.To(port),
			}}}}},
		},
	}
}

// pool is a certificate pool holding ca.
func pool(ca *certs.KeyPair) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// sameLeaf fails unless the served certificate (DER) is kp's.
func sameLeaf(t *testing.T, what string, served []byte, kp *certs.KeyPair) {
	t.Helper()
	if !bytes.Equal(served, kp.Cert.Raw) {
		t.Fatalf("%s: the served certificate is not %v's", what, kp.Cert.DNSNames)
	}
}

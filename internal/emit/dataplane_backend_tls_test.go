package emit_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
)

// serverCert issues a server certificate for dnsNames and uris.
func (ca *testCA) serverCert(t testing.TB, dnsNames []string, uris ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "backend"}, DNSNames: dnsNames,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// intermediate issues an intermediate CA; its server certificates carry it in their
// chain.
func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// chained is c with the intermediate CA's certificate after the leaf.
func chained(c tls.Certificate, intermediate *testCA) tls.Certificate {
	c.Certificate = append(c.Certificate, intermediate.cert.Raw)
	return c
}

// pool is a certificate pool of the CA.
func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// gatewayCert is a certificate and key as the Gateway certificate name.
func gatewayCert(t testing.TB, name string, c tls.Certificate) ir.Certificate {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return ir.Certificate{Name: name,
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
}

// tlsEchoBackend is an HTTPS echo backend (HTTP/1.1 and h2) presenting cert; with
// clientCAs it requires a client certificate they issued. It answers what echoBackend
// does, and in headers the SNI it was asked for (X-SNI), the common name of the client
// certificate (X-Client) and the protocol (X-Proto).
func tlsEchoBackend(t testing.TB, name string, cert tls.Certificate, clientCAs *x509.CertPool, h http.Handler) *httptest.Server {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-SNI", r.TLS.ServerName)
			if len(r.TLS.PeerCertificates) > 0 {
				w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
			}
			w.Header().Set("X-Proto", r.Proto)
			_ = json.NewEncoder(w).Encode(echo{Backend: name, Method: r.Method, Path: r.URL.Path, Host: r.Host, Header: r.Header})
		})
	}
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		s.TLS.ClientCAs, s.TLS.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// backendTLSFixture is a Gateway with one HTTP listener and an HTTPRoute with a rule
// per name: /<name> goes to Service <name> port 8443; /mixed splits between good2 and
// plain (port 8080).
func backendTLSFixture(names ...string) string {
	var b strings.Builder
	b.WriteString(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: default}
spec: {ports: [{port: 8080}]}
`)
	for _, n := range names {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {ports: [{port: 8443}]}\n", n)
	}
	b.WriteString(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /mixed}}]
    backendRefs: [{name: good2, port: 8443}, {name: plain, port: 8080}]
`)
	for _, n := range names {
		fmt.Fprintf(&b, "  - matches: [{path: {type: PathPrefix, value: /%s}}]\n    backendRefs: [{name: %s, port: 8443}]\n", n, n)
	}
	return b.String()
}

// svcAddr is the address the translator gives Service name's port.
func svcAddr(name string, port int) string {
	return fmt.Sprintf("%s.default.svc.cluster.local:%d", name, port)
}

// TestDataPlaneBackendTLS proxies through a real Caddy to HTTPS backends on 127.0.0.1,
// each spoken to with its own TLS: verified chain and name, subject alt names replacing
// the name, the system's roots, a client certificate, and a rule splitting between a
// TLS and a cleartext backend.
func TestDataPlaneBackendTLS(t *testing.T) {
	ca, otherCA, clientCA := newTestCA(t, "backend-ca"), newTestCA(t, "other-ca"), newTestCA(t, "client-ca")
	const spiffe = "spiffe://cluster.local/ns/default/sa/backend"
	good := ca.serverCert(t, []string{"good.example.com"})
	internal := ca.serverCert(t, []string{"backend.internal"}, spiffe)
	uriOnly := ca.serverCert(t, nil, spiffe)
	inter := ca.intermediate(t, "intermediate-ca")
	viaIntermediate := chained(inter.serverCert(t, []string{"backend.internal"}), inter)
	trust := func(serverName string, sans ...ir.SubjectAltName) *ir.BackendTLS {
		return &ir.BackendTLS{ServerName: serverName, TrustedCAs: []string{ca.pem}, SubjectAltNames: sans}
	}
	clientTLS := trust("good.example.com")
	clientTLS.ClientCertificate = "default/backend-client"
	cases := map[string]struct {
		cert      tls.Certificate
		clientCAs *x509.CertPool
		tls       *ir.BackendTLS
		want      int
		sni       string // the SNI the backend must have seen
		client    string // the client certificate's common name it must have seen
	}{
		"good":       {cert: good, tls: trust("good.example.com"), want: 200, sni: "good.example.com"},
		"wrong-ca":   {cert: otherCA.serverCert(t, []string{"good.example.com"}), tls: trust("good.example.com"), want: 502},
		"wrong-name": {cert: good, tls: trust("other.example.com"), want: 502},
		"san-dns": {cert: internal, want: 200, sni: "sni.example.com",
			tls: trust("sni.example.com", ir.SubjectAltName{Hostname: "other.internal"}, ir.SubjectAltName{Hostname: "backend.internal"})},
		"san-wildcard": {cert: internal, want: 200, tls: trust("sni.example.com", ir.SubjectAltName{Hostname: "*.internal"})},
		"san-uri":      {cert: uriOnly, want: 200, tls: trust("sni.example.com", ir.SubjectAltName{URI: spiffe})},
		// The server name is in the certificate, but the SANs replace it.
		"san-miss": {cert: internal, want: 502, tls: trust("backend.internal",
			ir.SubjectAltName{Hostname: "other.internal"}, ir.SubjectAltName{URI: "spiffe://cluster.local/ns/default/sa/other"})},
		"san-wrong-ca": {cert: otherCA.serverCert(t, []string{"backend.internal"}), want: 502,
			tls: trust("sni.example.com", ir.SubjectAltName{Hostname: "backend.internal"})},
		// The backend sends its intermediate; only the root is trusted.
		"chain":     {cert: viaIntermediate, want: 200, tls: trust("backend.internal")},
		"san-chain": {cert: viaIntermediate, want: 200, tls: trust("sni.example.com", ir.SubjectAltName{Hostname: "backend.internal"})},
		"system":    {cert: good, want: 502, tls: &ir.BackendTLS{ServerName: "good.example.com", SystemCAs: true}},
		"client":    {cert: good, clientCAs: clientCA.pool(), tls: clientTLS, want: 200, client: "client"},
		"no-client": {cert: good, clientCAs: clientCA.pool(), tls: trust("good.example.com"), want: 502},
		"good2":     {cert: good, tls: trust("good.example.com"), want: 200},
	}
	names := make([]string, 0, len(cases))
	backends := map[string]string{}
	tlsByAddr := map[string]*ir.BackendTLS{}
	for name, c := range cases {
		s := tlsEchoBackend(t, name, c.cert, c.clientCAs, nil)
		names = append(names, name)
		backends[svcAddr(name, 8443)] = s.Listener.Addr().String()
		tlsByAddr[s.Listener.Addr().String()] = c.tls
	}
	backends[svcAddr("plain", 8080)] = echoBackend(t, "plain").Listener.Addr().String()
	d := startDataPlane(t, backendTLSFixture(names...), backends)
	setBackendTLS(d.ir, tlsByAddr)
	d.ir.Certificates = append(d.ir.Certificates, gatewayCert(t, "default/backend-client", clientCA.clientCert(t)))
	// The config with backend TLS goes to Caddy as the operator sends it: through the
	// admin-proxy.
	res, err := emit.Emit(d.ir, d.opts)
	if err != nil {
		t.Fatal(err)
	}
	startAdminPush(t, d).load(t, res)
	d.client.CloseIdleConnections()
	// A connection accepted while the old servers shut down may be reset: wait until the
	// new config answers, as the operator waits for readiness.
	var resets int
	retry(t, &resets, "GET /good after the push", func() error {
		resp, err := httpGet(d, "/good")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp, e := d.do("GET", "/"+name, map[string]string{"Host": "app.example.com"})
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want != 200 {
				return
			}
			if e.Backend != name || e.Host != "app.example.com" {
				t.Errorf("backend %q saw Host %q; want %q and the client's Host", e.Backend, e.Host, name)
			}
			if c.sni != "" && resp.Header.Get("X-SNI") != c.sni {
				t.Errorf("backend saw SNI %q, want %q", resp.Header.Get("X-SNI"), c.sni)
			}
			if got := resp.Header.Get("X-Client"); got != c.client {
				t.Errorf("backend saw client certificate %q, want %q", got, c.client)
			}
		})
	}
	t.Run("mixed", func(t *testing.T) {
		seen := map[string]int{}
		for range 10 {
			_, e := d.do("GET", "/mixed", nil)
			seen[e.Backend]++
		}
		if seen["good2"] != 5 || seen["plain"] != 5 {
			t.Errorf("answers by backend %v, want 5 by good2 (TLS) and 5 by plain", seen)
		}
	})
}

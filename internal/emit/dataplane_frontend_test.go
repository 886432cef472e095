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
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testCA is a throw-away CA that issues client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	for {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		// startDataPlane replaces PORT in the fixture text, which holds this PEM.
		if !strings.Contains(p, "PORT") {
			return &testCA{cert: cert, key: key, pem: p}
		}
	}
}

// clientCert issues a client certificate.
func (ca *testCA) clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsRequest sends GET path to the data plane's port with the given SNI, Host and
// optional client certificate on a fresh connection; it returns the status and the
// backend that answered, or the error (a refused handshake).
func tlsRequest(d *dataPlane, sni, host string, cert *tls.Certificate) (int, string, error) {
	cfg := fixtureTLS(sni)
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	req, err := http.NewRequest("GET", strings.Replace(d.base, "http://", "https://", 1)+"/x", nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e.Backend, nil
}

const frontendFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  tls:
    frontend:
      default:
        validation:
          mode: MODE
          caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]
  listeners:
  - {name: https, port: PORT, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: client-ca, namespace: default}
data: {ca.crt: CAPEM}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: "@testcert", tls.key: "@testkey"}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
`

// TestDataPlaneClientCertificateValidation checks Gateway spec.tls.frontend
// validation: AllowValidOnly refuses clients without a certificate from the CA;
// AllowInsecureFallback serves them all. A Host other than the SNI within the same
// wildcard listener is served (Caddy's automatic strict SNI check is off).
func TestDataPlaneClientCertificateValidation(t *testing.T) {
	ca, other := newTestCA(t, "client-ca"), newTestCA(t, "other-ca")
	trusted, untrusted := ca.clientCert(t), other.clientCert(t)
	for mode, wantServed := range map[string]map[string]bool{
		"AllowValidOnly":        {"none": false, "trusted": true, "untrusted": false},
		"AllowInsecureFallback": {"none": true, "trusted": true, "untrusted": true},
	} {
		t.Run(mode, func(t *testing.T) {
			a := echoBackend(t, "a")
			text := strings.NewReplacer("MODE", mode, "CAPEM", fmt.Sprintf("%q", ca.pem)).Replace(frontendFixture)
			d := startDataPlane(t, text, map[string]string{"a.default.svc.cluster.local:8080": a.Listener.Addr().String()})
			for name, cert := range map[string]*tls.Certificate{"none": nil, "trusted": &trusted, "untrusted": &untrusted} {
				code, backend, err := tlsRequest(d, "foo.example.com", "bar.example.com", cert)
				served := err == nil && code == 200 && backend == "a"
				if served != wantServed[name] {
					t.Errorf("client certificate %s: status %d, backend %q, err %v; want served=%v", name, code, backend, err, wantServed[name])
				}
			}
		})
	}
}

const misdirectedFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: exact, port: PORT, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: wild, port: PORT, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: "@testcert", tls.key: "@testkey"}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: w, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: exact}]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: wild}]
  rules: [{backendRefs: [{name: w, port: 8080}]}]
`

// TestDataPlaneMisdirectedRequest checks the 421 rules of the Gateway API Listener
// hostname docs for HTTPS listeners sharing a port: a request is served by the
// listener its connection's SNI selected only if its Host selects the same listener;
// 421 if the Host selects another; 404 if it selects none.
func TestDataPlaneMisdirectedRequest(t *testing.T) {
	a, w := echoBackend(t, "a"), echoBackend(t, "w")
	d := startDataPlane(t, misdirectedFixture, map[string]string{
		"a.default.svc.cluster.local:8080": a.Listener.Addr().String(),
		"w.default.svc.cluster.local:8080": w.Listener.Addr().String(),
	})
	for _, c := range []struct {
		sni, host   string
		wantStatus  int
		wantBackend string
	}{
		{"a.example.com", "a.example.com", 200, "a"},
		{"b.example.com", "b.example.com", 200, "w"},
		{"b.example.com", "c.example.com", 200, "w"},    // same listener: coalescing is fine
		{"b.example.com", "a.example.com", 421, ""},     // a more specific listener owns the Host
		{"b.example.com", "A.Example.com:443", 421, ""}, // case and port do not matter
		{"a.example.com", "b.example.com", 421, ""},     // the SNI's listener does not match the Host
		{"a.example.com", "other.org", 404, ""},         // no listener matches the Host
		{"b.example.com", "other.org", 404, ""},
	} {
		code, backend, err := tlsRequest(d, c.sni, c.host, nil)
		if err != nil || code != c.wantStatus || backend != c.wantBackend {
			t.Errorf("SNI %s, Host %s: status %d, backend %q, err %v; want %d %q", c.sni, c.host, code, backend, err, c.wantStatus, c.wantBackend)
		}
	}
}

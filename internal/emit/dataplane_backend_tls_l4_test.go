package emit_test

import (
	"crypto/tls"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/testports"
)

// startTLSLineBackend is a line backend terminating TLS with cert.
func startTLSLineBackend(t *testing.T, name string, cert tls.Certificate) *lineBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveLines(t, name, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
}

// TestDataPlaneBackendTLSTLSRoute terminates TLS routes on a TLS port and re-encrypts
// to their backends through a real Caddy: the backend whose chain and name verify
// greets and echoes what the client sent; one signed by another CA, or asked for
// another name, never receives the connection.
func TestDataPlaneBackendTLSTLSRoute(t *testing.T) {
	ca, otherCA := newTestCA(t, "backend-ca"), newTestCA(t, "other-ca")
	good := startTLSLineBackend(t, "good", ca.serverCert(t, []string{"re.backend.test"}))
	bad := startTLSLineBackend(t, "bad", otherCA.serverCert(t, []string{"re.backend.test"}))
	listener := newTestCert(t, "listener", "*.example.org")
	d := startDataPlane(t, backendTLSFixture(), nil)
	port := testports.Port(t)
	verify := func(serverName string) *ir.BackendTLS {
		return &ir.BackendTLS{ServerName: serverName, TrustedCAs: []string{ca.pem}}
	}
	route := func(host string, b *lineBackend, t *ir.BackendTLS) ir.TLSRoute {
		return ir.TLSRoute{Listener: "tls", Hostnames: []string{host}, Certificates: []string{"default/listener"},
			Route: "default/" + strings.Split(host, ".")[0] + "/rule/0", Backends: []ir.Backend{{Address: b.addr(), Weight: 1, TLS: t}}}
	}
	d.ir.TLS = []ir.TLSServer{{Port: int32(port), Routes: []ir.TLSRoute{
		route("bad.example.org", bad, verify("re.backend.test")),
		route("good.example.org", good, verify("re.backend.test")),
		route("wrong-name.example.org", good, verify("other.backend.test")),
	}}}
	d.ir.Certificates = append(d.ir.Certificates, listener.ir(t, "default/listener"))
	slices.SortFunc(d.ir.Certificates, func(x, y ir.Certificate) int { return strings.Compare(x.Name, y.Name) })
	d.load(d.opts)

	c := dialSNI(t, port, "good.example.org")
	if c == nil || c.greeting != "good" || c.leaf != "listener" {
		t.Fatalf("good.example.org: connection %+v, want the listener's certificate and the greeting of good", c)
	}
	if _, err := io.WriteString(c, "through caddy\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := c.r.ReadString('\n'); err != nil || line != "through caddy\n" {
		t.Errorf("echo %q, %v", line, err)
	}
	_ = c.Close()
	for _, host := range []string{"bad.example.org", "wrong-name.example.org"} {
		if c := dialSNI(t, port, host); c != nil {
			t.Errorf("%s: greeted by %q, want the connection closed", host, c.greeting)
		}
	}
	if got := append(bad.received(), good.received()...); !slices.Equal(got, []string{"through caddy\n"}) {
		t.Errorf("the backends received %q, want only the line of the verified connection", got)
	}
}

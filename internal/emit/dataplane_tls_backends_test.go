package emit_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/ir"
)

// testCert is a self-signed certificate whose common name tells who presents it.
type testCert struct {
	tls  tls.Certificate
	leaf *x509.Certificate
}

// newTestCert issues a self-signed ECDSA certificate for cn and dnsNames.
func newTestCert(t *testing.T, cn string, dnsNames ...string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: dnsNames, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf: leaf}
}

// ir is the certificate as the Gateway certificate name.
func (c testCert) ir(t *testing.T, name string) ir.Certificate {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.tls.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return ir.Certificate{Name: name,
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.tls.Certificate[0]})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
}

// lineBackend greets each connection with its name and a newline, then echoes every
// line and records it. A TLS backend terminates TLS with a certificate of its own
// first, whose common name is "backend-<name>"; a plain one records what the Gateway
// decrypted.
type lineBackend struct {
	name     string
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	lines    []string
}

func startLineBackend(t *testing.T, name string, withTLS bool) *lineBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if withTLS {
		cert := newTestCert(t, "backend-"+name, name+".backend.test")
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert.tls}})
	}
	return serveLines(t, name, ln)
}

// serveLines serves ln as the line backend name.
func serveLines(t *testing.T, name string, ln net.Listener) *lineBackend {
	b := &lineBackend{name: name, ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			go b.serve(c)
		}
	}()
	return b
}

func (b *lineBackend) serve(c net.Conn) {
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%s\n", b.name); err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		b.mu.Lock()
		b.lines = append(b.lines, line)
		b.mu.Unlock()
		if _, err := c.Write([]byte(line)); err != nil {
			return
		}
	}
}

func (b *lineBackend) addr() string { return b.ln.Addr().String() }

// received are the lines the backend read so far.
func (b *lineBackend) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// tlsConn is a TLS connection through a Gateway's TLS listener.
type tlsConn struct {
	*tls.Conn
	r *bufio.Reader
	// leaf is the common name of the certificate the Gateway's side presented.
	leaf string
	// greeting is the backend's name, read from the stream.
	greeting string
}

// dialSNI connects to port on 127.0.0.1 with serverName as SNI (none when empty),
// accepting any certificate, and reads the backend's greeting. It returns nil when the
// Gateway closed the connection before a greeting.
func dialSNI(t *testing.T, port int, serverName string) *tlsConn {
	t.Helper()
	return dialSNIAfter(t, port, serverName, "")
}

// dialSNIAfter is dialSNI writing preface (a PROXY protocol header, say) before the
// ClientHello.
func dialSNIAfter(t *testing.T, port int, serverName, preface string) *tlsConn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial port %d: %v", port, err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(raw, preface); err != nil {
		t.Fatalf("port %d: writing %q: %v", port, preface, err)
	}
	c := tls.Client(raw, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		timedOut(t, port, serverName, err)
		return nil
	}
	out := &tlsConn{Conn: c, r: bufio.NewReader(c), leaf: c.ConnectionState().PeerCertificates[0].Subject.CommonName}
	line, err := out.r.ReadString('\n')
	if err != nil {
		timedOut(t, port, serverName, err)
		return nil
	}
	out.greeting = strings.TrimSuffix(line, "\n")
	return out
}

// timedOut fails the test when err is a timeout: the Gateway neither served nor closed.
func timedOut(t *testing.T, port int, serverName string, err error) {
	t.Helper()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("port %d, SNI %q: neither served nor closed within 5s", port, serverName)
	}
}

// tlsGreetings opens n connections with serverName one after the other and counts the
// greetings by backend name ("" for connections closed without one).
func tlsGreetings(t *testing.T, port int, serverName string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		c := dialSNI(t, port, serverName)
		if c == nil {
			got[""]++
			continue
		}
		got[c.greeting]++
		_ = c.Close()
	}
	return got
}

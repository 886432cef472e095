// Package acmetest runs an ACME CA in the test process for tests of automatic
// certificates: pebble (the ACME test server of Let's Encrypt) on 127.0.0.1, its
// validation authority pointed at the ports of the Caddy under test and at a small DNS
// server answering 127.0.0.1 for every name, so that any hostname validates against the
// local Caddy. It counts the orders and challenge responses it receives and can be
// made unreachable. It is test support: it must not be imported by product code.
package acmetest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"

	"github.com/caddy-gateway/operator/internal/testports"
)

// Options configure a CA.
type Options struct {
	// HTTPPort is where the validation authority sends HTTP-01 requests (127.0.0.1).
	HTTPPort int
	// TLSPort is where it makes TLS-ALPN-01 handshakes (127.0.0.1).
	TLSPort int
	// Lifetime is the validity of the certificates issued; pebble's default (90 days)
	// when 0. Short lifetimes let tests see renewals.
	Lifetime time.Duration
	// Log receives pebble's log; discarded when nil.
	Log io.Writer
}

// CA is a running pebble.
type CA struct {
	// Directory is the ACME directory URL.
	Directory string
	// DirectoryRootPEM is the certificate the directory's TLS is served with (PEM):
	// the trusted root a client of the directory needs.
	DirectoryRootPEM string

	ca     *ca.CAImpl
	srv    *httptest.Server
	orders atomic.Int64
	chals  atomic.Int64
	down   atomic.Bool
}

// New starts a CA for the test; it stops when the test ends. It sets pebble's
// environment for determinism (no random sleeps of the validation authority, no
// rejected nonces, no reuse of valid authorizations so that each order validates), so
// tests using it must not run in parallel.
func New(tb testing.TB, o Options) *CA {
	tb.Helper()
	tb.Setenv("PEBBLE_VA_NOSLEEP", "1")
	tb.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	tb.Setenv("PEBBLE_AUTHZREUSE", "0")
	out := o.Log
	if out == nil {
		out = io.Discard
	}
	logger := log.New(out, "pebble ", log.LstdFlags)
	resolver := startDNS(tb)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "test", ValidityPeriod: uint64(o.Lifetime / time.Second)}}
	c := &CA{ca: ca.New(logger, store, "", "ecdsa", 0, 1, profiles)}
	v := va.New(logger, o.HTTPPort, o.TLSPort, false, resolver, store)
	// Retry-After of 1s on pending authorizations and orders: the client polls soon.
	w := wfe.New(logger, store, v, c.ca, nil, false, false, 1, 1)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testports.Port(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	c.srv = httptest.NewUnstartedServer(c.count(w.Handler()))
	if err := c.srv.Listener.Close(); err != nil {
		tb.Fatal(err)
	}
	c.srv.Listener = ln
	c.srv.StartTLS()
	tb.Cleanup(c.srv.Close)
	c.Directory = c.srv.URL + wfe.DirectoryPath
	c.DirectoryRootPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw}))
	return c
}

// count wraps the ACME handler: it counts new orders and challenge responses, and
// answers 503 to everything while the CA is down.
func (c *CA) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.down.Load() {
			http.Error(w, "the CA is down", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost {
			switch {
			case r.URL.Path == "/order-plz":
				c.orders.Add(1)
			case strings.HasPrefix(r.URL.Path, "/chalZ/"):
				c.chals.Add(1)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Orders is the number of new orders received.
func (c *CA) Orders() int64 { return c.orders.Load() }

// Challenges is the number of challenge responses received (one per authorization a
// client asked to validate).
func (c *CA) Challenges() int64 { return c.chals.Load() }

// SetDown makes every ACME request fail (503) while down is true.
func (c *CA) SetDown(down bool) { c.down.Store(down) }

// Roots is a pool of the CA's issuing root: the certificates it issues chain to it.
func (c *CA) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.GetRootCert(0).Cert)
	return pool
}

// startDNS runs a DNS server on 127.0.0.1 (TCP, as pebble's validation authority asks)
// answering 127.0.0.1 to every A question and nothing to others; it returns its address.
func startDNS(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testports.Port(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(answerLoopback)}
	go func() { _ = srv.ActivateAndServe() }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

func answerLoopback(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	for _, question := range q.Question {
		if question.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
				A:   net.IPv4(127, 0, 0, 1),
			})
		}
	}
	_ = w.WriteMsg(m)
}

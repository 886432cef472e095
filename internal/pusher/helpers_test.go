package pusher_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// testGateway is the Gateway every fixture belongs to.
const testGateway = "infra/web"

// quietLog swallows the servers' handshake-failure lines.
var quietLog = log.New(io.Discard, "", 0)

// pki is the certificate material of one Gateway's admin channel.
type pki struct {
	ca, server, client *certs.KeyPair
	serverName         string
}

func newPKI(tb testing.TB) *pki {
	tb.Helper()
	o := certs.IssueOptions{Now: time.Now()}
	ca, err := certs.NewCA("test-ca", o)
	if err != nil {
		tb.Fatal(err)
	}
	p := &pki{ca: ca, serverName: certs.ServerName("web", "infra")}
	if p.server, err = ca.IssueServer(p.serverName, o); err != nil {
		tb.Fatal(err)
	}
	if p.client, err = ca.IssueClient(o); err != nil {
		tb.Fatal(err)
	}
	return p
}

// clientTLS is the operator's client configuration, built the way the controller builds
// it (adminClientTLS), for the given ServerName.
func (p *pki) clientTLS(tb testing.TB, serverName string) *tls.Config {
	tb.Helper()
	pair, err := tls.X509KeyPair(p.client.CertPEM, p.client.KeyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.Cert)
	return &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: roots,
		ServerName: serverName, MinVersion: tls.VersionTLS13,
	}
}

// serverTLS is an admin-proxy's server configuration: it requires a client certificate
// from the CA.
func (p *pki) serverTLS(tb testing.TB) *tls.Config {
	tb.Helper()
	pair, err := tls.X509KeyPair(p.server.CertPEM, p.server.KeyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	cas := x509.NewCertPool()
	cas.AddCert(p.ca.Cert)
	return &tls.Config{
		Certificates: []tls.Certificate{pair}, ClientCAs: cas,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13,
	}
}

// pod is one fake Caddy pod: an mTLS server on its own loopback IP.
type pod struct {
	ip   string
	hits atomic.Int64
	// resumed counts the requests on connections that resumed a TLS session.
	resumed atomic.Int64
	mu      sync.Mutex
	last    *http.Request // the last request, its body read into body
	body    []byte
}

func (p *pod) lastRequest() (*http.Request, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.body
}

// fleet is n fake pods listening on 127.0.0.1, 127.0.0.2, … at one shared port, as the
// pods of a Gateway share the admin port.
type fleet struct {
	port int32
	pods []*pod
}

// podHandler answers the requests of pod i.
type podHandler func(w http.ResponseWriter, r *http.Request, i int)

// ok answers like a Caddy that takes every load and delta and holds no host tables.
func ok(w http.ResponseWriter, r *http.Request, _ int) {
	if r.Method == http.MethodGet && r.URL.Path == caddyjson.TablesPath {
		_, _ = io.WriteString(w, `{"tables":[]}`)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// startFleet starts n pods that stop when the test ends.
func startFleet(tb testing.TB, p *pki, n int, h podHandler) *fleet {
	tb.Helper()
	var lns []net.Listener
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if lns, err = listenAll(n); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("listening on %d loopback IPs: %v", n, err)
	}
	f := &fleet{port: int32(lns[0].Addr().(*net.TCPAddr).Port)}
	for i, ln := range lns {
		pd := &pod{ip: ln.Addr().(*net.TCPAddr).IP.String()}
		f.pods = append(f.pods, pd)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pd.hits.Add(1)
			if r.TLS != nil && r.TLS.DidResume {
				pd.resumed.Add(1)
			}
			body, _ := io.ReadAll(r.Body)
			pd.mu.Lock()
			pd.last, pd.body = r, body
			pd.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			h(w, r, i)
		}))
		srv.Listener.Close()
		srv.Listener = ln
		srv.TLS = p.serverTLS(tb)
		srv.Config.ErrorLog = quietLog
		srv.StartTLS()
		tb.Cleanup(srv.Close)
	}
	return f
}

// listenAll listens on 127.0.0.1:0, then on 127.0.0.2…n at the same port.
func listenAll(n int) ([]net.Listener, error) {
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lns := []net.Listener{first}
	port := first.Addr().(*net.TCPAddr).Port
	for i := 1; i < n; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:%d", i+1, port))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// targets returns the pods' targets; gen[i], when given, is pod i's restart count.
func (f *fleet) targets(gen ...int) []pusher.Target {
	out := make([]pusher.Target, len(f.pods))
	for i, pd := range f.pods {
		g := 0
		if i < len(gen) {
			g = gen[i]
		}
		out[i] = pusher.Target{Key: fmt.Sprintf("uid-%d/%d", i, g), Name: fmt.Sprintf("pod-%d", i), IP: pd.ip}
	}
	return out
}

func (f *fleet) hits() []int64 {
	out := make([]int64, len(f.pods))
	for i, pd := range f.pods {
		out[i] = pd.hits.Load()
	}
	return out
}

func config(hash string) pusher.Config {
	return pusher.Config{JSON: []byte(`{"hash":"` + hash + `"}`), Hash: hash}
}

// clock is a settable time source for backoff and pacing.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

package emit_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/adminproxy/proxytest"
	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/emit"
)

// adminPush loads configs into the data plane's Caddy as the operator does: over mTLS
// to the real admin-proxy, which forwards to Caddy's admin socket.
type adminPush struct {
	// url is the admin-proxy's base URL.
	url    string
	client *http.Client
	// adminListen is Caddy's admin endpoint behind the admin-proxy.
	adminListen string
}

// startAdminPush serves an admin-proxy in front of d's admin socket until the test ends.
func startAdminPush(t *testing.T, d *dataPlane) *adminPush {
	t.Helper()
	o := certs.IssueOptions{Now: time.Now()}
	ca, err := certs.NewCA("test-ca", o)
	if err != nil {
		t.Fatal(err)
	}
	serverName := certs.ServerName("gw", "default")
	server, err := ca.IssueServer(serverName, o)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient(o)
	if err != nil {
		t.Fatal(err)
	}
	addr := proxytest.Start(t, server, ca, t.TempDir(), strings.TrimPrefix(d.opts.AdminListen, "unix/"))
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	cert := tls.Certificate{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}
	return &adminPush{url: "https://" + addr.String(), adminListen: d.opts.AdminListen, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName,
			Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}}}}
}

// load pushes res as the operator pushes to a pod it knows nothing of: all host tables
// (replacing any others) to the route tables' admin path, then the config to /load;
// then it waits until the old servers have let go of their listeners.
func (p *adminPush) load(t *testing.T, res emit.Result) {
	t.Helper()
	tables, err := json.Marshal(caddyjson.TablesDelta{Replace: true, Set: res.Tables})
	if err != nil {
		t.Fatal(err)
	}
	p.post(t, caddyjson.TablesPath, tables)
	p.post(t, "/load", res.JSON)
	waitHandoff(t)
}

// post POSTs body to path and fails the test unless Caddy accepted it. Caddy replaces
// its admin endpoint on every load, so a push right after another can find the socket
// between the two servers: the admin-proxy answers 502 and nothing was applied. Such a
// push is sent again, a few times, as the operator's pusher retries it with backoff.
func (p *adminPush) post(t *testing.T, path string, body []byte) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		resp, err := p.client.Post(p.url+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode == http.StatusBadGateway && attempt < 5:
			t.Logf("POST %s, attempt %d: %d %s; sending it again", path, attempt, resp.StatusCode, bytes.TrimSpace(msg))
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
		}
	}
}

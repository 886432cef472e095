package adminproxy

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/certs"
)

// TestSessionResumption checks that a client resumes its TLS session on its next
// connection, and that a session from before the certificate files rotated does not
// resume: the first connection after a rotation is a full handshake with the new material.
func TestSessionResumption(t *testing.T) {
	p := newPKI(t)
	dir := shortTempDir(t)
	writeTLSDir(t, dir, p.server, p.ca)
	// No Caddy behind it: a request that passes the handshake gets 502 from the proxy.
	addr := startProxy(t, Options{TLSDir: dir, Socket: filepath.Join(dir, "none.sock"), Logger: quietLogger()})
	cfg := clientTLS(p, p.client)
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	c := httpClient(cfg)
	get := func() tls.ConnectionState {
		t.Helper()
		resp, err := c.Get("https://" + addr + "/config/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502 (accepted, no Caddy behind)", resp.StatusCode)
		}
		return *resp.TLS
	}
	if get().DidResume {
		t.Fatal("the first connection resumed a session")
	}
	if !get().DidResume {
		t.Fatal("the second connection did not resume the first one's session")
	}

	rotated, err := p.ca.IssueServer(p.serverName, certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	writeTLSDir(t, dir, rotated, p.ca)
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		cs := get()
		if cs.PeerCertificates[0].SerialNumber.Cmp(rotated.Cert.SerialNumber) == 0 {
			if cs.DidResume {
				t.Fatal("a session from before the rotation resumed")
			}
			break
		}
		if !cs.DidResume {
			t.Fatal("a full handshake presented the certificate from before the rotation")
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the rotated certificate was never presented")
		}
	}
	if !get().DidResume {
		t.Fatal("no resumption after the rotation")
	}
}

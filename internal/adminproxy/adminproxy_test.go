package adminproxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/certs"
)

func TestAllowed(t *testing.T) {
	tests := map[string]struct {
		method, path, raw string
		want              bool
	}{
		"load":                     {method: "POST", path: "/load", want: true},
		"get config root":          {method: "GET", path: "/config/", want: true},
		"get config subpath":       {method: "GET", path: "/config/apps/http/servers", want: true},
		"get config subpath /":     {method: "GET", path: "/config/apps/", want: true},
		"upstreams":                {method: "GET", path: "/reverse_proxy/upstreams", want: true},
		"get load":                 {method: "GET", path: "/load"},
		"load subpath":             {method: "POST", path: "/load/x"},
		"stop":                     {method: "POST", path: "/stop"},
		"delete config":            {method: "DELETE", path: "/config/"},
		"post config":              {method: "POST", path: "/config/apps"},
		"patch config":             {method: "PATCH", path: "/config/apps"},
		"put config":               {method: "PUT", path: "/config/apps"},
		"config without slash":     {method: "GET", path: "/config"},
		"pprof":                    {method: "GET", path: "/debug/pprof/"},
		"vars":                     {method: "GET", path: "/debug/vars"},
		"metrics":                  {method: "GET", path: "/metrics"},
		"pki":                      {method: "GET", path: "/pki/ca/local"},
		"adapt":                    {method: "POST", path: "/adapt"},
		"id":                       {method: "GET", path: "/id/x", want: true},
		"id without object":        {method: "GET", path: "/id/"},
		"id subpath":               {method: "GET", path: "/id/x/listen"},
		"id with trailing slash":   {method: "GET", path: "/id/x/"},
		"id root":                  {method: "GET", path: "/id"},
		"post id":                  {method: "POST", path: "/id/x"},
		"delete id":                {method: "DELETE", path: "/id/x"},
		"patch id":                 {method: "PATCH", path: "/id/x"},
		"dot-dot escape":           {method: "GET", path: "/config/../stop"},
		"dot segment":              {method: "GET", path: "/config/./apps"},
		"double slash":             {method: "GET", path: "/config//apps"},
		"escaped path":             {method: "GET", path: "/config/a/b", raw: "/config/a%2Fb"},
		"head config":              {method: "HEAD", path: "/config/"},
		"options load":             {method: "OPTIONS", path: "/load"},
		"load with trailing slash": {method: "POST", path: "/load/"},
		"post tables":              {method: "POST", path: "/gateway-routes", want: true},
		"get tables":               {method: "GET", path: "/gateway-routes", want: true},
		"tables with trailing /":   {method: "GET", path: "/gateway-routes/"},
		"post tables with /":       {method: "POST", path: "/gateway-routes/"},
		"tables subpath":           {method: "GET", path: "/gateway-routes/80/"},
		"post tables subpath":      {method: "POST", path: "/gateway-routes/x"},
		"delete tables":            {method: "DELETE", path: "/gateway-routes"},
		"put tables":               {method: "PUT", path: "/gateway-routes"},
		"patch tables":             {method: "PATCH", path: "/gateway-routes"},
		"head tables":              {method: "HEAD", path: "/gateway-routes"},
		"tables prefix":            {method: "GET", path: "/gateway-routesx"},
		"escaped tables":           {method: "GET", path: "/gateway-routes", raw: "/gateway%2Droutes"},
		"dot-dot to tables":        {method: "POST", path: "/load/../gateway-routes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Allowed(tc.method, tc.path, tc.raw); got != tc.want {
				t.Fatalf("Allowed(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

// pki is a CA with the server and client certificates of one Gateway.
type pki struct {
	ca, server, client *certs.KeyPair
	serverName         string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	o := certs.IssueOptions{Now: time.Now()}
	ca, err := certs.NewCA("test-ca", o)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: ca, serverName: certs.ServerName("web", "infra")}
	if p.server, err = ca.IssueServer(p.serverName, o); err != nil {
		t.Fatal(err)
	}
	if p.client, err = ca.IssueClient(o); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTLSDir writes the server Secret's files the way a volume update lands: each file
// replaced by a rename.
func writeTLSDir(t *testing.T, dir string, server, ca *certs.KeyPair) {
	t.Helper()
	for name, data := range certs.SecretData(server, ca) {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func clientTLS(p *pki, client *certs.KeyPair) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.Cert)
	c := &tls.Config{RootCAs: roots, ServerName: p.serverName, MinVersion: tls.VersionTLS13}
	if client != nil {
		// GetClientCertificate, not Certificates: with Certificates, crypto/tls sends no
		// certificate at all when it is not from a CA the server asks for, and a foreign
		// certificate would never reach the server's verification.
		cert := &tls.Certificate{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

func httpClient(c *tls.Config) *http.Client {
	return &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{TLSClientConfig: c, DisableKeepAlives: true},
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// shortTempDir returns a directory whose paths fit a unix socket name (108 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestTLSStoreKeepsPreviousMaterialOnMismatch(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	writeTLSDir(t, dir, p.server, p.ca)
	s, err := newTLSStore(dir, certs.OperatorURI)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := s.reload(); changed || err != nil {
		t.Fatalf("unchanged files: changed=%v err=%v", changed, err)
	}
	before := s.cur.Load()
	// A certificate that does not match the key on disk: a half-finished update.
	other, err := p.ca.IssueServer(p.serverName, certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, certs.SecretCertKey), other.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reload(); err == nil || !strings.Contains(err.Error(), "tls.crt") {
		t.Fatalf("mismatched pair: err = %v", err)
	}
	if s.cur.Load() != before {
		t.Fatal("material replaced by an inconsistent set")
	}
	writeTLSDir(t, dir, other, p.ca)
	if changed, err := s.reload(); !changed || err != nil {
		t.Fatalf("completed update: changed=%v err=%v", changed, err)
	}
	if _, err := newTLSStore(t.TempDir(), certs.OperatorURI); err == nil {
		t.Fatal("empty dir: want error")
	}
}

// TestForwarding checks what reaches the socket, with a stand-in for Caddy's admin.
func TestForwarding(t *testing.T) {
	p := newPKI(t)
	dir := shortTempDir(t)
	writeTLSDir(t, dir, p.server, p.ca)
	sock := filepath.Join(dir, "admin.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan *http.Request, 1)
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Clone(r.Context())
		io.WriteString(w, "ok")
	}), ReadHeaderTimeout: time.Second}
	go upstream.Serve(uln)
	t.Cleanup(func() { upstream.Close() })

	addr := startProxy(t, Options{TLSDir: dir, Socket: sock, Logger: quietLogger()})
	c := httpClient(clientTLS(p, p.client))
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/config/apps", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := <-seen
	if r.Host != "caddy-admin" || r.URL.Path != "/config/apps" || r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		t.Fatalf("forwarded Host=%q path=%q Origin=%q Sec-Fetch-Mode=%q", r.Host, r.URL.Path, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Mode"))
	}

	// An oversized body is refused from its Content-Length, before it is read.
	conn, err := tls.Dial("tcp", addr, clientTLS(p, p.client))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /load HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", MaxBodyBytes+1)
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: status %d", resp.StatusCode)
	}
}

func TestProbeFilter(t *testing.T) {
	var buf strings.Builder
	l := log.New(probeFilter{log.New(&buf, "", 0)}, "", 0)
	l.Print("http: TLS handshake error from 10.0.0.1:5555: EOF")
	l.Print("http: TLS handshake error from 10.0.0.2:5555: tls: client didn't provide a certificate")
	if got := buf.String(); strings.Contains(got, "10.0.0.1") || !strings.Contains(got, "10.0.0.2") {
		t.Fatalf("filtered log = %q", got)
	}
}

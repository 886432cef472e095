package adminproxy

// The data-plane test of the control channel: the real Caddy (in process) behind the real
// admin-proxy, on loopback. Caddy is a process-wide singleton, so everything that touches
// it lives in this one sequential test.

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	_ "github.com/caddy-gateway/operator/internal/caddymod"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/testports"
)

// adminBlock is the admin configuration of the bootstrap config and of every pushed one.
func adminBlock(sock string) map[string]any {
	return map[string]any{
		"listen": "unix/" + sock,
		"config": map[string]any{"persist": false},
	}
}

func TestRealCaddyBehindAdminProxy(t *testing.T) {
	dir := shortTempDir(t)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	sock := filepath.Join(dir, "admin.sock")

	bootstrap, _ := json.Marshal(map[string]any{"admin": adminBlock(sock)})
	if err := caddy.Load(bootstrap, true); err != nil {
		t.Fatalf("bootstrap Caddy: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("caddy.Stop: %v", err)
		}
	})

	p := newPKI(t)
	tlsDir := filepath.Join(dir, "tls")
	mkdir(t, tlsDir)
	writeTLSDir(t, tlsDir, p.server, p.ca)
	addr := startProxy(t, Options{TLSDir: tlsDir, Socket: sock, Logger: quietLogger()})
	base := "https://" + addr
	operator := httpClient(clientTLS(p, p.client))

	// A push through the proxy: a config that adds an HTTP server on loopback.
	httpPort := testports.Port(t)
	pushed, _ := json.Marshal(map[string]any{
		"admin": adminBlock(sock),
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"test": map[string]any{
			"listen": []string{fmt.Sprintf("127.0.0.1:%d", httpPort)},
			"routes": []any{map[string]any{"handle": []any{map[string]any{
				"handler": "static_response", "body": "hello from the pushed config",
			}}}},
		}}}},
	})
	t.Run("push over mTLS", func(t *testing.T) {
		if code, body := do(t, operator, http.MethodPost, base+"/load", pushed); code != http.StatusOK {
			t.Fatalf("POST /load: %d %s", code, body)
		}
		code, body := do(t, operator, http.MethodGet, base+"/config/apps/http/servers/test/listen", nil)
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprint(httpPort)) {
			t.Fatalf("GET /config/...: %d %s", code, body)
		}
		assertServing(t, httpPort)
	})

	t.Run("route tables over mTLS", func(t *testing.T) {
		routes := `[{"handle":[{"handler":"static_response","body":"a"}]}]`
		sum := sha256.Sum256([]byte(routes))
		set, _ := json.Marshal(caddyjson.TablesDelta{Set: []caddyjson.HostTable{{
			Table: caddyjson.TableName(80, ""), Host: "a.example", Hash: hex.EncodeToString(sum[:]), Routes: json.RawMessage(routes),
		}}})
		if code, body := do(t, operator, http.MethodPost, base+caddyjson.TablesPath, set); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", caddyjson.TablesPath, code, body)
		}
		code, body := do(t, operator, http.MethodGet, base+caddyjson.TablesPath, nil)
		want := `{"tables":[{"table":"80/","host":"a.example","hash":"` + hex.EncodeToString(sum[:]) + `"}]}`
		if code != http.StatusOK || strings.TrimSpace(body) != want {
			t.Fatalf("GET %s: %d %s, want %s", caddyjson.TablesPath, code, body, want)
		}
		if code, body := do(t, operator, http.MethodPost, base+caddyjson.TablesPath, []byte(`{"replace":true}`)); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", caddyjson.TablesPath, code, body)
		}
	})

	t.Run("refused clients", func(t *testing.T) {
		other, err := certs.NewCA("other-ca", certs.IssueOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := other.IssueClient(certs.IssueOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		wrongURI, _ := url.Parse("spiffe://caddygateway.io/someone-else")
		stranger, err := p.ca.IssueClientFor("caddy-gateway-operator", []*url.URL{wrongURI}, certs.IssueOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			cert  *certs.KeyPair
			alert string
		}{
			"no client certificate":            {cert: nil, alert: "tls: certificate required"},
			"certificate from another CA":      {cert: foreign, alert: "tls: unknown certificate authority"},
			"right CA, not the operator's URI": {cert: stranger, alert: "tls: bad certificate"},
		} {
			t.Run(name, func(t *testing.T) {
				resp, err := httpClient(clientTLS(p, c.cert)).Post(base+"/load", "application/json", bytes.NewReader(pushed))
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %d", resp.StatusCode)
				}
				// Refused in the TLS handshake, not by some unrelated failure.
				if !strings.Contains(err.Error(), c.alert) {
					t.Fatalf("want the alert %q, got %v", c.alert, err)
				}
			})
		}
	})

	t.Run("disallowed admin calls", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, "/stop"},
			{http.MethodDelete, "/config/"},
			{http.MethodPost, "/config/apps/http/servers/evil"},
			{http.MethodGet, "/debug/pprof/"},
			{http.MethodGet, "/debug/vars"},
			{http.MethodGet, "/pki/ca/local"},
			{http.MethodDelete, caddyjson.TablesPath},
			{http.MethodPut, caddyjson.TablesPath},
			{http.MethodPost, caddyjson.TablesPath + "/x"},
		} {
			if code, body := do(t, operator, c.method, base+c.path, []byte("{}")); code != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", c.method, c.path, code, body)
			}
		}
		// Caddy still runs its pushed config.
		if code, body := do(t, operator, http.MethodGet, base+"/config/", nil); code != http.StatusOK || !strings.Contains(body, "pushed config") {
			t.Fatalf("GET /config/ after refused calls: %d %s", code, body)
		}
		assertServing(t, httpPort)
	})

	t.Run("a rejected config keeps the running one", func(t *testing.T) {
		bad := []byte(`{"admin":` + mustJSON(adminBlock(sock)) + `,"apps":{"http":{"servers":{"x":{"listen":["127.0.0.1:1:2"]}}}}}`)
		if code, body := do(t, operator, http.MethodPost, base+"/load", bad); code < 400 || code == http.StatusForbidden {
			t.Fatalf("bad config: %d %s, want Caddy's error", code, body)
		}
		assertServing(t, httpPort)
	})

	t.Run("server certificate rotation without restart", func(t *testing.T) {
		before := serverSerial(t, addr, p, p.client)
		rotated, err := p.ca.IssueServer(p.serverName, certs.IssueOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		writeTLSDir(t, tlsDir, rotated, p.ca)
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := serverSerial(t, addr, p, p.client)
			if got.Cmp(rotated.Cert.SerialNumber) == 0 {
				break
			}
			if got.Cmp(before) != 0 {
				t.Fatalf("serial %v is neither the old nor the new one", got)
			}
			if time.Now().After(deadline) {
				t.Fatal("the rotated certificate was not picked up within 10s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code, body := do(t, operator, http.MethodPost, base+"/load", pushed); code != http.StatusOK {
			t.Fatalf("push after rotation: %d %s", code, body)
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func do(t *testing.T, c *http.Client, method, u string, body []byte) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func assertServing(t *testing.T, port int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("pushed server: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hello from the pushed config" {
		t.Fatalf("pushed server answered %d %q", resp.StatusCode, b)
	}
}

// serverSerial handshakes with the proxy and returns the serial of its certificate.
func serverSerial(t *testing.T, addr string, p *pki, client *certs.KeyPair) *big.Int {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLS(p, client))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

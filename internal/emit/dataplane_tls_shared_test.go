package emit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
)

// testTLSSharedWithHTTPS checks the port of the HTTPS listener: HTTPS requests, for a
// name of the HTTPS listener that no TLS route has, get the HTTP route's answer with
// the HTTPS listener's certificate, although the broader TLS route "*.com" matches
// them too (its exception), while the TLS routes' names are passed through or
// terminated with their own certificate.
func testTLSSharedWithHTTPS(t *testing.T, p *tlsPlane) {
	port := p.d.listenPort
	for _, host := range []string{"foo.example.com", "bar.example.com"} {
		if status, body := httpsGet(t, port, host, "/hello"); status != 200 || body != "web" {
			t.Errorf("HTTPS %s/hello: %d from %q, want 200 from web", host, status, body)
		}
	}
	expectServed(t, port, "db.example.com", "backend-a", "a")
	expectServed(t, port, "tdb.example.com", "listener-two", "t2")
	expectServed(t, port, "x.other.com", "backend-wild", "wild")
}

// httpsGet sends GET path over HTTPS to port with host as SNI and Host, trusting only
// the fixtures' listener certificate, and returns the status and the answering backend.
func httpsGet(t *testing.T, port int, host, path string) (int, string) {
	t.Helper()
	status, e := httpsGetAfter(t, port, host, path, "")
	return status, e.Backend
}

// httpsGetAfter is httpsGet writing preface on the connection before TLS, and
// returning what the backend saw.
func httpsGetAfter(t *testing.T, port int, host, path, preface string) (int, echo) {
	t.Helper()
	status, e, err := httpsDo(port, host, path, preface)
	if err != nil {
		t.Fatalf("HTTPS %s%s: %v", host, path, err)
	}
	return status, e
}

// httpsDo sends GET path over HTTPS to port with host as SNI and Host, writing preface
// on the connection before TLS.
func httpsDo(port int, host, path, preface string) (int, echo, error) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_, err = io.WriteString(c, preface)
		}
		return c, err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: fixtureTLS(host), DialContext: dial}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d%s", port, path), nil)
	if err != nil {
		return 0, echo{}, err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return 0, echo{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if resp.StatusCode == 200 {
		_ = json.Unmarshal(body, &e)
	}
	return resp.StatusCode, e, nil
}

// TestDataPlaneTLSSharedProxyProtocol: with PROXY protocol on, the header comes before
// the ClientHello on the port shared by TLS and HTTPS listeners, and is read before
// the TLS routes: passthrough and terminate work behind it, and HTTPS requests get the
// HTTP route's answer with the client address of the header.
func TestDataPlaneTLSSharedProxyProtocol(t *testing.T) {
	p := startTLSPlane(t, emit.ServerOptions{ProxyProtocol: &emit.ProxyProtocol{Allow: []string{"127.0.0.0/8"}}})
	port := p.d.listenPort
	header := fmt.Sprintf("PROXY TCP4 192.0.2.7 127.0.0.1 4321 %d\r\n", port)
	for _, c := range []struct{ serverName, leaf, greeting string }{
		{"db.example.com", "backend-a", "a"}, {"tdb.example.com", "listener-two", "t2"},
	} {
		conn := dialSNIAfter(t, port, c.serverName, header)
		if conn == nil || conn.leaf != c.leaf || conn.greeting != c.greeting {
			t.Errorf("SNI %q behind a PROXY header: %+v, want certificate %q and backend %q", c.serverName, conn, c.leaf, c.greeting)
			continue
		}
		if !echoes(conn, conn.r, "ping") {
			t.Errorf("SNI %q behind a PROXY header: no echo", c.serverName)
		}
		_ = conn.Close()
	}
	status, e := httpsGetAfter(t, port, "foo.example.com", "/hello", header)
	if status != 200 || e.Backend != "web" || e.Header.Get("X-Forwarded-For") != "192.0.2.7" {
		t.Errorf("HTTPS behind a PROXY header: %d from %q, X-Forwarded-For %q; want 200 from web for 192.0.2.7",
			status, e.Backend, e.Header.Get("X-Forwarded-For"))
	}
}

// tlsPushes is the number of config pushes the long-lived TLS streams are held across
// in each round.
const tlsPushes = 50

// testTLSAcrossPushes holds a passthrough stream on each TLS port and a terminated one
// open while the config is pushed tlsPushes times through the admin-proxy, and counts
// the pushes that closed each: first with the unrelated HTTPRoute's path changed each
// time, then with a TLS route of its own name added to both TLS ports instead.
func testTLSAcrossPushes(t *testing.T, p *tlsPlane) {
	for _, round := range []struct {
		name     string
		tlsChurn bool
	}{{"an unrelated HTTPRoute changed", false}, {"a TLS route added on the same ports", true}} {
		p.tlsChurn = round.tlsChurn
		first := p.churn + 1
		closed := holdStreams(t, p, tlsPushes)
		for _, s := range closed {
			t.Logf("%d pushes, %s each time: the long-lived %s stream was closed %d times", tlsPushes, round.name, s.name, s.closed)
			if s.closed != 0 {
				t.Errorf("%d of %d pushes (%s) closed the long-lived %s stream, want 0", s.closed, tlsPushes, round.name, s.name)
			}
		}
		// The pushes took effect: the HTTP route is at its last path, the last TLS route
		// is served and the one before it is gone.
		last := p.churn
		for path, want := range map[string]int{fmt.Sprintf("/churn-%d", last): 200, fmt.Sprintf("/churn-%d", first-1): 404} {
			if status, _ := httpsGet(t, p.d.listenPort, "foo.example.com", path); status != want {
				t.Errorf("HTTPS %s after the pushes: %d, want %d", path, status, want)
			}
		}
		if round.tlsChurn {
			expectServed(t, p.standalone, fmt.Sprintf("churn-%d.example.org", last), "backend-wild", "wild")
			expectServed(t, p.d.listenPort, fmt.Sprintf("churn-%d.example.org", last), "backend-wild", "wild")
			expectClosed(t, p.standalone, fmt.Sprintf("churn-%d.example.org", last-1))
		}
	}
}

// heldStream is a long-lived stream through a TLS listener and how often pushes
// closed it.
type heldStream struct {
	name       string
	port       int
	serverName string
	c          *tlsConn
	closed     int
}

// holdStreams opens the long-lived streams, pushes the config n times (p.churn counting
// on), checks after each push that every stream still echoes, and reopens a stream a
// push closed.
func holdStreams(t *testing.T, p *tlsPlane, n int) []heldStream {
	streams := []heldStream{
		{name: "passthrough", port: p.standalone, serverName: "a.example.org"},
		{name: "passthrough on the HTTPS port", port: p.d.listenPort, serverName: "db.example.com"},
		{name: "terminated", port: p.standalone, serverName: "term.example.org"},
	}
	for i := range streams {
		if streams[i].c = dialSNI(t, streams[i].port, streams[i].serverName); streams[i].c == nil {
			t.Fatalf("%s stream: closed at once", streams[i].name)
		}
	}
	for range n {
		p.churn++
		p.push.load(t, p.config(p.churn))
		for i := range streams {
			s := &streams[i]
			if echoes(s.c, s.c.r, fmt.Sprintf("after push %d", p.churn)) {
				continue
			}
			s.closed++
			_ = s.c.Close()
			if s.c = dialSNI(t, s.port, s.serverName); s.c == nil {
				t.Fatalf("%s stream: closed at once after push %d", s.name, p.churn)
			}
		}
	}
	for _, s := range streams {
		_ = s.c.Close()
	}
	return streams
}

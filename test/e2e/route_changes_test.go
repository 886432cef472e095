//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

// TestRouteChangesKeepStreams edits one HTTPRoute 100 times while a WebSocket and a long
// download opened through it before the first edit stay open, and steady requests keep
// coming: route changes reach Caddy without a config load, so nothing is cut.
func TestRouteChangesKeepStreams(t *testing.T) {
	const gwName, host, route, edits = "changes", "changes.example.com", "changes", 100
	class := envconf.RandomName("e2e-changes", 16)
	var addr string
	f := features.New("route changes without reloads").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			objs := append(utils.EchoBackend(ns, "changes-echo"), onePodParams(ns, gwName),
				gatewayClass(class, ns, gwName), httpGateway(ns, gwName, class),
				catchAllRoute(ns, route, gwName, host, "changes-echo"))
			createAll(ctx, t, c, objs...)
			addr = net.JoinHostPort(serviceIP(ctx, t, c, ns, gwName), fmt.Sprint(listenerPort))
			expect(ctx, t, addr, host, "/", nil, 200, "backend=changes-echo")
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			return ctx
		}).
		Assess("a WebSocket, a download and steady requests outlive 100 edits of their route", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := unthrottled(t, cfg)
			ns := cfg.Namespace()
			ws := openWebSocket(t, addr, host)
			defer ws.Close()
			// 100 edits take a few seconds; the download lasts a minute.
			dl := startDownload(ctx, t, addr, host, 1200)
			steady := watchSteady(addr, host)
			loads := loadRequests(ctx, t, cfg, ns, gwName)
			var lat []time.Duration
			for i := range edits {
				start := time.Now()
				patchRouteHeader(ctx, t, c, ns, route, fmt.Sprintf("edit-%d", i))
				served(ctx, t, addr, host, fmt.Sprintf("header X-Config: edit-%d\n", i))
				lat = append(lat, time.Since(start))
				if i%10 == 9 {
					ws.echo(t, fmt.Sprintf("after edit %d", i))
				}
			}
			if n := loadRequests(ctx, t, cfg, ns, gwName) - loads; n != 0 {
				t.Errorf("Caddy loaded its config %d times during %d route edits, want 0", n, edits)
			}
			ws.echo(t, "after all edits")
			if got := dl.lines(); got < 20 {
				t.Errorf("the download received %d lines during the edits, want it flowing", got)
			}
			ok, others := steady.stop()
			if len(others) > 0 {
				t.Errorf("steady requests during the edits: %d answered 200, others: %v", ok, others)
			}
			slices.Sort(lat)
			t.Logf("%d edits: edit to served p50 %v, p99 %v; steady requests: %d, all 200; download lines so far: %d",
				edits, lat[len(lat)/2], lat[len(lat)*99/100], ok, dl.lines())
			dl.finish(t)
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

// unthrottled is a client without the default limit of 5 requests a second, so that the
// edits are timed, not the client.
func unthrottled(t *testing.T, cfg *envconf.Config) client.Client {
	t.Helper()
	rc := rest.CopyConfig(cfg.Client().RESTConfig())
	rc.QPS, rc.Burst = 500, 1000
	c, err := client.New(rc, client.Options{Scheme: cfg.Client().Resources().GetControllerRuntimeClient().Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// patchRouteHeader makes the route add the request header X-Config: value, with a merge
// patch: the operator's status writes never make it conflict.
func patchRouteHeader(ctx context.Context, t *testing.T, c client.Client, ns, name, value string) {
	t.Helper()
	var r gwapiv1.HTTPRoute
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &r); err != nil {
		t.Fatal(err)
	}
	orig := r.DeepCopy()
	r.Spec.Rules[0].Filters = []gwapiv1.HTTPRouteFilter{{
		Type:                  gwapiv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gwapiv1.HTTPHeaderFilter{Set: []gwapiv1.HTTPHeader{{Name: "X-Config", Value: value}}},
	}}
	if err := c.Patch(ctx, &r, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
}

// served polls GET / every 10 ms until its body holds want.
func served(ctx context.Context, t *testing.T, addr, host, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if code, body, err := get(ctx, addr, host, "/", nil); err == nil && code == http.StatusOK && strings.Contains(body, want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never answered with %q", host, want)
}

// webSocket is an upgraded connection through the Gateway to the probe backend, which
// echoes its bytes.
type webSocket struct {
	net.Conn
	r *bufio.Reader
}

func openWebSocket(t *testing.T, addr, host string) *webSocket {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", host)
	r := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		_ = conn.Close()
		t.Fatalf("WebSocket upgrade: %v %v", resp, err)
	}
	ws := &webSocket{Conn: conn, r: r}
	ws.echo(t, "opened")
	return ws
}

// echo sends a line and expects it back within 5 s.
func (ws *webSocket) echo(t *testing.T, msg string) {
	t.Helper()
	_ = ws.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(ws, msg); err != nil {
		t.Fatalf("WebSocket write %q: %v", msg, err)
	}
	got, err := ws.r.ReadString('\n')
	if err != nil || got != msg+"\n" {
		t.Fatalf("WebSocket echo of %q: %q, %v", msg, got, err)
	}
}

// download reads a streamed response line by line in the background.
type download struct {
	mu   sync.Mutex
	n    int
	want int
	err  error
	done chan struct{}
}

func startDownload(ctx context.Context, t *testing.T, addr, host string, n int) *download {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/_stream?n=%d", addr, n), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %v %v", resp, err)
	}
	d := &download{want: n, done: make(chan struct{})}
	go d.read(resp.Body)
	return d
}

func (d *download) read(body io.ReadCloser) {
	defer close(d.done)
	defer func() { _ = body.Close() }()
	s := bufio.NewScanner(body)
	for s.Scan() {
		d.mu.Lock()
		if s.Text() != fmt.Sprintf("chunk %d", d.n) {
			d.err = fmt.Errorf("line %d is %q", d.n, s.Text())
		}
		d.n++
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = s.Err()
	}
}

func (d *download) lines() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// finish waits for the download's end and checks it received every line in order.
func (d *download) finish(t *testing.T) {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the download did not end")
	}
	if d.err != nil || d.n != d.want {
		t.Errorf("the download ended after %d of %d lines: %v", d.n, d.want, d.err)
	}
}

// steadyWatch sends a request every 20 ms and counts the answers.
type steadyWatch struct {
	done   chan struct{}
	wg     sync.WaitGroup
	ok     int
	others map[string]int
}

func watchSteady(addr, host string) *steadyWatch {
	w := &steadyWatch{done: make(chan struct{}), others: map[string]int{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.done:
				return
			case <-time.After(trafficInterval):
			}
			code, _, err := get(context.Background(), addr, host, "/", nil)
			switch {
			case err != nil:
				w.others[err.Error()]++
			case code != http.StatusOK:
				w.others[fmt.Sprint(code)]++
			default:
				w.ok++
			}
		}
	}()
	return w
}

// stop ends the watch and returns the count of 200s and the other outcomes.
func (w *steadyWatch) stop() (int, map[string]int) {
	close(w.done)
	w.wg.Wait()
	return w.ok, w.others
}

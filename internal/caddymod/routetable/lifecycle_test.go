package routetable

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// streamBackend answers an Upgrade with 101 and echoes the connection's bytes, /stream
// with a line every few milliseconds until the client leaves, anything else with name.
func streamBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Upgrade") != "":
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			io.Copy(conn, brw)
		case r.URL.Path == "/stream":
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(w, "%s %d\n", name, i); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		default:
			io.WriteString(w, name)
		}
	}))
	t.Cleanup(func() { s.CloseClientConnections(); s.Close() })
	return s
}

// openUpgrade opens an upgraded connection to host through the gateway.
func openUpgrade(t *testing.T, g *gw, host string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", g.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n", host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return conn, br
}

// echo sends a line over an upgraded connection and checks it comes back.
func echo(t *testing.T, conn net.Conn, br *bufio.Reader, msg string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(conn, msg); err != nil {
		t.Fatalf("upgraded connection write: %v", err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != msg+"\n" {
		t.Fatalf("upgraded connection echo: %q %v, want %q", line, err, msg)
	}
}

func TestStreamsOutliveTableChanges(t *testing.T) {
	g := startCaddy(t, "80/")
	a, b := streamBackend(t, "a"), streamBackend(t, "b")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", proxy(dial(a))))}})

	conn, br := openUpgrade(t, g, "s.test")
	echo(t, conn, br, "before")
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/stream", g.port), nil)
	req.Host = "s.test"
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	readLine(t, lines, "a 0\n")

	for i := range 100 {
		to := a
		if i%2 == 0 {
			to = b
		}
		g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", proxy(dial(to))))}})
	}
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", proxy(dial(b))))}})

	echo(t, conn, br, "after 100 changes")
	for range 20 {
		if _, err := lines.ReadString('\n'); err != nil {
			t.Fatalf("download after 100 changes: %v", err)
		}
	}
	g.expect(t, "s.test", "/", http.StatusOK, "b")
}

func readLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	if line, err := r.ReadString('\n'); err != nil || line != want {
		t.Fatalf("download: %q %v, want %q", line, err, want)
	}
}

func TestSlowRequestFinishesOnItsBackend(t *testing.T) {
	g := startCaddy(t, "80/")
	release := make(chan struct{})
	entered := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "slow")
	}))
	t.Cleanup(slow.Close)
	fast := backend(t, "fast")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", proxy(dial(slow))))}})

	done := make(chan string)
	go func() {
		_, body := g.get(t, "s.test", "/")
		done <- body
	}()
	<-entered
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", proxy(dial(fast))))}})
	g.expect(t, "s.test", "/", http.StatusOK, "fast")
	close(release)
	if body := <-done; body != "slow" {
		t.Errorf("in-flight request answered %q, want slow", body)
	}
}

func TestReplacedGenerationIsCleanedOnceDrained(t *testing.T) {
	g := startCaddy(t, "80/")
	old, next := freshProbe("drain-old"), freshProbe("drain-new")
	probesMu.Lock()
	old.gate = make(chan struct{})
	probesMu.Unlock()
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "d.test", route("", probeHandler("drain-old")))}})
	done := make(chan string)
	go func() {
		_, body := g.get(t, "d.test", "/")
		done <- body
	}()
	<-old.entered
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "d.test", route("", probeHandler("drain-new")))}})
	g.expect(t, "d.test", "/", http.StatusOK, "drain-new")
	if c := old.cleaned.Load(); c != 0 {
		t.Fatalf("replaced generation cleaned up %d times while a request runs on it", c)
	}
	close(old.gate)
	if body := <-done; body != "drain-old" {
		t.Errorf("in-flight request answered %q, want drain-old", body)
	}
	eventually(t, "the drained generation is cleaned up", func() bool { return old.cleaned.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	if p, c := old.provisioned.Load(), old.cleaned.Load(); p != 1 || c != 1 {
		t.Errorf("replaced generation: provisioned %d, cleaned %d; want 1 and 1", p, c)
	}
	if p, c := next.provisioned.Load(), next.cleaned.Load(); p != 1 || c != 0 {
		t.Errorf("serving generation: provisioned %d, cleaned %d; want 1 and 0", p, c)
	}
	g.mustPost(t, caddyjson.TablesDelta{Delete: []caddyjson.HostKey{{Table: "80/", Host: "d.test"}}})
	if c := next.cleaned.Load(); c != 1 {
		t.Errorf("deleted idle generation cleaned %d times, want 1", c)
	}
}

func TestFrameReloadKeepsTables(t *testing.T) {
	g := startCaddy(t, "80/")
	a := streamBackend(t, "a")
	p := freshProbe("reload")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("80/", "s.test", route("", proxy(dial(a)))),
		table("80/", "p.test", route("", probeHandler("reload"))),
	}})
	conn, br := openUpgrade(t, g, "s.test")
	echo(t, conn, br, "before reload")

	if err := caddy.Load(frame(g.sock, g.port, "80/", "81/"), true); err != nil {
		t.Fatalf("reloading a changed frame: %v", err)
	}
	// The old server drops its connections: wait for one the new server answers.
	g.web.CloseIdleConnections()
	eventually(t, "the reloaded server answers", func() bool {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", g.port), nil)
		req.Host = "s.test"
		resp, err := g.web.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	g.expect(t, "s.test", "/", http.StatusOK, "a")
	g.expect(t, "p.test", "/", http.StatusOK, "reload")
	echo(t, conn, br, "after reload")
	if pr, c := p.provisioned.Load(), p.cleaned.Load(); pr != 2 || c != 1 {
		t.Errorf("after a reload: provisioned %d, cleaned %d; want 2 (one per frame) and 1", pr, c)
	}
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "s.test", route("", static("changed")))}})
	g.expect(t, "s.test", "/", http.StatusOK, "changed")
	if st := g.state(t); len(st.Tables) != 2 {
		t.Errorf("state after reload: %+v, want 2 host tables", st)
	}
}

func TestConcurrentDeltas(t *testing.T) {
	g := startCaddy(t, "80/")
	p := freshProbe("concurrent")
	const writers, rounds = 6, 15
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", g.port), nil)
				req.Host = "shared.test"
				if resp, err := g.web.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
					table("80/", fmt.Sprintf("w%d.test", w), route("", probeHandler("concurrent"), static(fmt.Sprint(i)))),
					table("80/", "shared.test", route("", probeHandler("concurrent"))),
				}})
				if code != http.StatusOK {
					t.Errorf("POST: %d %s", code, body)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	for w := range writers {
		g.expect(t, fmt.Sprintf("w%d.test", w), "/", http.StatusOK, "concurrent")
	}
	if st := g.state(t); len(st.Tables) != writers+1 {
		t.Errorf("state: %d host tables, want %d", len(st.Tables), writers+1)
	}
	eventually(t, "every replaced generation is cleaned up", func() bool {
		return p.provisioned.Load()-p.cleaned.Load() == writers+1
	})
	if pr := p.provisioned.Load(); pr != 2*writers*rounds {
		t.Errorf("provisioned %d generations, want %d", pr, 2*writers*rounds)
	}
}

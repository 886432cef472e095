package emit_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddymod/l4smooth"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
)

// udpSessionsBlocked returns the number of goroutines blocked sending in caddy-l4's UDP
// session code (layer4.(*packetConn)): a session's end reported to a server loop that no
// longer runs.
func udpSessionsBlocked() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	blocked := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("[chan send")) && bytes.Contains(g, []byte("caddy-l4/layer4.(*packetConn)")) {
			blocked++
		}
	}
	return blocked
}

// drainingAfterGC collects garbage until no stopped UDP server loop is drained, for up
// to 5s, and returns how many are.
func drainingAfterGC() int {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		runtime.GC()
		if n := l4smooth.Draining(); n == 0 || time.Now().After(deadline) {
			return n
		}
	}
}

// udpLeakPushes is how many configs TestDataPlaneUDPSessionsOfOldConfigsEnd pushes.
const udpLeakPushes = 40

// TestDataPlaneUDPSessionsOfOldConfigsEnd holds udpLeakSessions sessions through the
// Gateway across udpLeakPushes pushes through the admin-proxy: in turn two unrelated
// changes (the sessions of the old config end at their idle timeout), one that deletes
// their route (they are cut) and one that restores it, the sessions exchanging a
// datagram after each push that has the route. Every push closes the UDP socket of the
// config it replaces and so stops its server loop; the sessions of that config that end
// later report it to the stopped loop, and without the module draining those reports
// all but the first few block forever (about 7 goroutines a push here). Once the
// sessions are idle, no goroutine is blocked there, the goroutines are as many as before
// the pushes, and the drained loops are forgotten once their sessions are garbage.
func TestDataPlaneUDPSessionsOfOldConfigsEnd(t *testing.T) {
	const sessions = 20
	a := startUDPEcho(t, "a")
	backends := map[string]string{
		"a.default.svc.cluster.local:7000": a.addr(),
		"a.default.svc.cluster.local:8080": echoBackend(t, "http").Listener.Addr().String(),
	}
	port := testports.Port(t)
	fixture := func(churn int, route bool) string {
		r := ""
		if route {
			r = udpCloseRoute
		}
		return fmt.Sprintf(udpCloseFixture, port, churn, r)
	}
	d := startDataPlaneWith(t, fixture(0, true), backends, emit.Options{
		Servers: emit.ServerOptions{UDPIdleTimeout: ptrTo(udpIdleTimeout)},
	})
	push := startAdminPush(t, d)
	clients := make([]*udpSession, sessions)
	for i := range clients {
		clients[i] = dialUDP(t, port)
	}
	exchangeAll := func(after int) {
		for i, s := range clients {
			if name, _ := s.exchange(fmt.Sprintf("session %d", i), 5*time.Second); name != "a" {
				t.Fatalf("after push %d, session %d answered by %q, want a", after, i, name)
			}
		}
	}
	time.Sleep(2 * udpIdleTimeout)
	before := runtime.NumGoroutine()
	exchangeAll(0)
	start := time.Now()
	for p := 1; p <= udpLeakPushes; p++ {
		route := p%4 != 2
		push.load(t, d.reloadingConfig(fixture(p, route)))
		if route {
			exchangeAll(p)
		}
	}
	took := time.Since(start)
	time.Sleep(2 * udpIdleTimeout)
	blocked, after := udpSessionsBlocked(), runtime.NumGoroutine()
	t.Logf("%d sessions, %d pushes in %v: %d goroutines blocked in caddy-l4's UDP sessions; goroutines %d before, %d after",
		sessions, udpLeakPushes, took.Round(time.Millisecond), blocked, before, after)
	if blocked != 0 {
		t.Errorf("%d goroutines are blocked reporting the end of a UDP session to a stopped server loop", blocked)
	}
	if after > before+5 {
		t.Errorf("%d goroutines after the pushes, %d before", after, before)
	}
	if n := drainingAfterGC(); n != 0 {
		t.Errorf("%d stopped UDP server loops are still drained once their sessions ended", n)
	}
}

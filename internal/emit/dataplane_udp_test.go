package emit_test

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
)

// udpFixture has UDP listeners: echo (one backend, and a TCP listener on the same port
// number), on-http (one backend, on the HTTP listener's port), weighted (3:1, and a backend of weight 0), missing (its only backend does
// not exist) and half (one valid and one missing backend, 1:1).
const udpFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: PORT, protocol: HTTP}
  - {name: echo, port: ECHO_AT, protocol: UDP}
  - {name: echo-tcp, port: ECHO_AT, protocol: TCP}
  - {name: on-http, port: PORT, protocol: UDP}
  - {name: weighted, port: WEIGHTED_AT, protocol: UDP}
  - {name: missing, port: MISSING_AT, protocol: UDP}
  - {name: half, port: HALF_AT, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 7000, protocol: UDP}, {port: 7000, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{port: 7000, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: default}
spec: {ports: [{port: 7000, protocol: UDP}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: echo}]
  rules:
  - backendRefs: [{name: a, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: echo-tcp, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: echo-tcp}]
  rules:
  - backendRefs: [{name: a, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: on-http, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: on-http}]
  rules:
  - backendRefs: [{name: b, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: weighted, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: weighted}]
  rules:
  - backendRefs:
    - {name: a, port: 7000, weight: 3}
    - {name: b, port: 7000, weight: 1}
    - {name: idle, port: 7000, weight: 0}
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: missing, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: missing}]
  rules:
  - backendRefs: [{name: nowhere, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: half, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: half}]
  rules:
  - backendRefs:
    - {name: b, port: 7000}
    - {name: nowhere, port: 7000}
`

// udpEcho is a UDP backend that answers each datagram with "<name> <sender> <datagram>"
// (the sender is the Gateway's socket of the session); it counts the datagrams it got.
type udpEcho struct {
	name     string
	pc       net.PacketConn
	received atomic.Int64
}

func startUDPEcho(t *testing.T, name string) *udpEcho {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveUDPEcho(t, name, pc)
}

// serveUDPEcho answers every datagram pc receives with name, the sender and the datagram.
func serveUDPEcho(t *testing.T, name string, pc net.PacketConn) *udpEcho {
	t.Helper()
	e := &udpEcho{name: name, pc: pc}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			e.received.Add(1)
			_, _ = pc.WriteTo(fmt.Appendf(nil, "%s %s %s", name, from, buf[:n]), from)
		}
	}()
	return e
}

func (e *udpEcho) addr() string { return e.pc.LocalAddr().String() }

// udpPorts are the UDP listener ports of one udpFixture data plane; echo is free for
// TCP too.
type udpPorts struct{ echo, weighted, missing, half int }

func udpFixtureAt(p udpPorts) string {
	return strings.NewReplacer("ECHO_AT", fmt.Sprint(p.echo), "WEIGHTED_AT", fmt.Sprint(p.weighted),
		"MISSING_AT", fmt.Sprint(p.missing), "HALF_AT", fmt.Sprint(p.half)).Replace(udpFixture)
}

// udpSession is one client socket: its datagrams are one session of the Gateway.
type udpSession struct {
	t *testing.T
	c net.Conn
}

func dialUDP(t *testing.T, port int) *udpSession {
	t.Helper()
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &udpSession{t: t, c: c}
}

// exchange sends msg and returns the backend's name and the sender it saw, or "" when
// no answer came within wait (the datagram was dropped).
func (s *udpSession) exchange(msg string, wait time.Duration) (name, via string) {
	s.t.Helper()
	if _, err := s.c.Write([]byte(msg)); err != nil {
		s.t.Fatal(err)
	}
	_ = s.c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := s.c.Read(buf)
	if err != nil {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			s.t.Logf("read: %v", err)
		}
		return "", ""
	}
	parts := strings.SplitN(string(buf[:n]), " ", 3)
	if len(parts) != 3 || parts[2] != msg {
		s.t.Fatalf("answer of %d bytes to %d bytes, not the backend's echo of it", n, len(msg))
	}
	return parts[0], parts[1]
}

// udpAnswers opens n sessions one after the other, each from its own socket, sends
// one datagram in each and counts the answers by backend name ("" for none within wait).
func udpAnswers(t *testing.T, port, n int, wait time.Duration) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := range n {
		s := dialUDP(t, port)
		name, _ := s.exchange(fmt.Sprintf("session %d", i), wait)
		got[name]++
		_ = s.c.Close()
	}
	return got
}

// udpDropWait is how long a datagram may take to be answered before it counts as
// dropped.
const udpDropWait = 200 * time.Millisecond

// udpIdleTimeout is the session idle timeout the data plane runs with.
const udpIdleTimeout = 700 * time.Millisecond

// TestDataPlaneUDPRoute serves UDPRoutes through Caddy's layer4 app: datagrams round
// trip to the backend, on a port whose TCP socket a TCP listener serves; sessions are
// spread 3:1 by weight and none reaches a backend of weight 0; the datagrams of a
// missing backend's share are dropped; and a session idle for longer than the idle
// timeout ends (the next datagram starts a new one).
func TestDataPlaneUDPRoute(t *testing.T) {
	// The TCPRoute's backend is the TCP port of a's number: Service a has both.
	a, aTCP := startUDPEchoAndTCPGreeter(t, "a", "a-tcp")
	b, idle := startUDPEcho(t, "b"), startUDPEcho(t, "idle")
	backends := map[string]string{
		"a.default.svc.cluster.local:7000":    a.addr(),
		"b.default.svc.cluster.local:7000":    b.addr(),
		"idle.default.svc.cluster.local:7000": idle.addr(),
	}
	ports := udpPorts{echo: testports.Port(t), weighted: testports.Port(t), missing: testports.Port(t), half: testports.Port(t)}
	d := startDataPlaneWith(t, udpFixtureAt(ports), backends, emit.Options{
		RefusedBackend: "unix/" + filepath.Join(t.TempDir(), "refused.sock"),
		Servers:        emit.ServerOptions{UDPIdleTimeout: ptrTo(udpIdleTimeout)},
	})

	t.Run("datagrams round trip", func(t *testing.T) {
		// Up to 7.6 kB: caddy-l4 reads datagrams into 9000-byte buffers.
		s := dialUDP(t, ports.echo)
		for i := range 20 {
			msg := fmt.Sprintf("datagram %d %s", i, strings.Repeat("x", 400*i))
			if name, _ := s.exchange(msg, 5*time.Second); name != "a" {
				t.Fatalf("datagram %d answered by %q, want a", i, name)
			}
		}
	})

	t.Run("TCP listener on the same port", func(t *testing.T) {
		c, _, name := dialTCP(t, ports.echo)
		defer c.Close()
		if name != "a-tcp" || aTCP.Load() != 1 {
			t.Fatalf("the TCP listener on the UDP listener's port: greeting %q, %d connections, want a-tcp, 1", name, aTCP.Load())
		}
	})

	t.Run("HTTP listener on the same port", func(t *testing.T) {
		if name, _ := dialUDP(t, d.listenPort).exchange("to b", 5*time.Second); name != "b" {
			t.Fatalf("a datagram to the HTTP listener's port answered by %q, want b", name)
		}
		d.expect("GET", "/", nil, 404)
	})

	t.Run("weights 3:1 and 0", func(t *testing.T) {
		const n = 400
		idleBefore := idle.received.Load()
		got := udpAnswers(t, ports.weighted, n, 5*time.Second)
		t.Logf("%d sessions: %v", n, got)
		if got["a"] < 3*n/4-4 || got["a"] > 3*n/4+4 || got["a"]+got["b"] != n {
			t.Errorf("%d sessions: %v, want a %d ±4, b the rest", n, got, 3*n/4)
		}
		if got["idle"] != 0 || idle.received.Load() != idleBefore {
			t.Errorf("the backend of weight 0 got %d datagrams", idle.received.Load()-idleBefore)
		}
	})

	t.Run("missing backend drops", func(t *testing.T) {
		if got := udpAnswers(t, ports.missing, 10, udpDropWait); got[""] != 10 {
			t.Errorf("10 sessions to a route whose only backend is missing: %v, want all dropped", got)
		}
		const n = 20
		bBefore := b.received.Load()
		got := udpAnswers(t, ports.half, n, udpDropWait)
		t.Logf("%d sessions, one valid and one missing backend: %v", n, got)
		if got[""] < n/2-1 || got[""] > n/2+1 || got["b"] != n-got[""] {
			t.Errorf("%d sessions: %v, want half dropped and half to b", n, got)
		}
		if reached := b.received.Load() - bBefore; reached != int64(got["b"]) {
			t.Errorf("b received %d datagrams, %d answered", reached, got["b"])
		}
	})

	t.Run("idle timeout ends a session", func(t *testing.T) {
		s := dialUDP(t, ports.echo)
		_, first := s.exchange("one", 5*time.Second)
		time.Sleep(udpIdleTimeout / 4)
		if _, again := s.exchange("two", 5*time.Second); again != first {
			t.Errorf("a datagram %v after the last came through %s, not the session's %s", udpIdleTimeout/4, again, first)
		}
		time.Sleep(udpIdleTimeout * 2)
		if _, after := s.exchange("three", 5*time.Second); after == first {
			t.Errorf("a datagram %v after the last still came through the session's %s", 2*udpIdleTimeout, first)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

// startUDPEchoAndTCPGreeter starts a UDP echo named udpName and a TCP greeter named
// tcpName on one port number of 127.0.0.1, trying ports until one is free for both.
func startUDPEchoAndTCPGreeter(t *testing.T, udpName, tcpName string) (*udpEcho, *atomic.Int64) {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			_ = ln.Close()
			continue
		}
		return serveUDPEcho(t, udpName, pc), serveTCPGreeter(t, ln, tcpName)
	}
	t.Fatal("no port of 127.0.0.1 was free for both TCP and UDP")
	return nil, nil
}

// serveTCPGreeter greets each TCP connection ln accepts with name and a newline, and
// counts them.
func serveTCPGreeter(t *testing.T, ln net.Listener, name string) *atomic.Int64 {
	t.Helper()
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = fmt.Fprintln(c, name)
			_ = c.Close()
		}
	}()
	return &n
}

package emit_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
)

// tcpFixture has an HTTP listener (PORT) whose route CHURN changes between pushes, and
// TCP listeners: echo (one backend), weighted (3:1, and a backend of weight 0), missing
// (its only backend does not exist) and half (one valid and one missing backend, 1:1).
const tcpFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: PORT, protocol: HTTP}
  - {name: echo, port: ECHO_AT, protocol: TCP}
  - {name: weighted, port: WEIGHTED_AT, protocol: TCP}
  - {name: missing, port: MISSING_AT, protocol: TCP}
  - {name: half, port: HALF_AT, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 7000}, {port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{port: 7000}]}
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: default}
spec: {ports: [{port: 7000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: echo}]
  rules:
  - backendRefs: [{name: a, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
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
kind: TCPRoute
metadata: {name: missing, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: missing}]
  rules:
  - backendRefs: [{name: nowhere, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: half, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: half}]
  rules:
  - backendRefs:
    - {name: b, port: 7000}
    - {name: nowhere, port: 7000}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: churn, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: Exact, value: /churn-CHURN}}]
    backendRefs: [{name: a, port: 8080}]
`

// tcpEcho is a TCP backend that greets each connection with its name and a newline,
// then echoes every byte; it counts the connections it accepted.
type tcpEcho struct {
	name     string
	ln       net.Listener
	accepted atomic.Int64
}

func startTCPEcho(t *testing.T, name string) *tcpEcho {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &tcpEcho{name: name, ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			go func() {
				defer c.Close()
				if _, err := io.WriteString(c, name+"\n"); err == nil {
					_, _ = io.Copy(c, c)
				}
			}()
		}
	}()
	return e
}

func (e *tcpEcho) addr() string { return e.ln.Addr().String() }

// tcpPorts are the TCP listener ports of one tcpFixture data plane.
type tcpPorts struct{ echo, weighted, missing, half int }

// freeTCPPorts takes a free port for each TCP listener of tcpFixture.
func freeTCPPorts(t *testing.T) tcpPorts {
	return tcpPorts{echo: testports.Port(t), weighted: testports.Port(t), missing: testports.Port(t), half: testports.Port(t)}
}

// tcpFixtureAt is tcpFixture with the TCP listener ports and the CHURN-th path.
func tcpFixtureAt(p tcpPorts, churn int) string {
	return strings.NewReplacer("ECHO_AT", fmt.Sprint(p.echo), "WEIGHTED_AT", fmt.Sprint(p.weighted),
		"MISSING_AT", fmt.Sprint(p.missing), "HALF_AT", fmt.Sprint(p.half), "CHURN", fmt.Sprint(churn)).Replace(tcpFixture)
}

// dialTCP connects to a TCP listener on 127.0.0.1 and reads the backend's greeting:
// its name, or "" when the Gateway closed the connection without one.
func dialTCP(t *testing.T, port int) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial port %d: %v", port, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("port %d: neither a greeting nor a close within 5s", port)
		}
		return c, r, ""
	}
	return c, r, strings.TrimSuffix(line, "\n")
}

// greetings opens n connections one after the other and counts the greetings by
// backend name ("" for connections closed without one).
func greetings(t *testing.T, port, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		c, _, name := dialTCP(t, port)
		got[name]++
		_ = c.Close()
	}
	return got
}

// TestDataPlaneTCPRoute serves TCPRoutes through Caddy's layer4 app: bytes round trip
// to the backend; connections are spread 3:1 by weight and none reaches a backend of
// weight 0, and 3:1 holds while the config is pushed after every one or two
// connections; the connections of a missing backend's share are closed; and a connection
// open through the Gateway keeps working while the config is pushed tcpPushes times
// with an unrelated HTTPRoute changed each time.
func TestDataPlaneTCPRoute(t *testing.T) {
	a, b, idle := startTCPEcho(t, "a"), startTCPEcho(t, "b"), startTCPEcho(t, "idle")
	backends := map[string]string{
		"a.default.svc.cluster.local:7000":    a.addr(),
		"b.default.svc.cluster.local:7000":    b.addr(),
		"idle.default.svc.cluster.local:7000": idle.addr(),
		"a.default.svc.cluster.local:8080":    echoBackend(t, "http").Listener.Addr().String(),
	}
	ports := freeTCPPorts(t)
	d := startDataPlaneWith(t, tcpFixtureAt(ports, 0), backends,
		emit.Options{RefusedBackend: "unix/" + filepath.Join(t.TempDir(), "refused.sock")})

	t.Run("bytes round trip", func(t *testing.T) {
		c, r, name := dialTCP(t, ports.echo)
		if name != "a" {
			t.Fatalf("greeting %q, want a", name)
		}
		payload := make([]byte, 1<<20)
		_, _ = rand.Read(payload)
		go func() { _, _ = c.Write(payload) }()
		got := make([]byte, len(payload))
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("1 MiB echoed back: equal %v, err %v", bytes.Equal(got, payload), err)
		}
	})

	t.Run("weights 3:1 and 0", func(t *testing.T) {
		const n = 400
		idleBefore := idle.accepted.Load()
		got := greetings(t, ports.weighted, n)
		t.Logf("%d connections: %v", n, got)
		if got["a"] < 3*n/4-4 || got["a"] > 3*n/4+4 || got["a"]+got["b"] != n {
			t.Errorf("%d connections: %v, want a %d ±4, b the rest", n, got, 3*n/4)
		}
		if got["idle"] != 0 || idle.accepted.Load() != idleBefore {
			t.Errorf("the backend of weight 0 got %d connections", idle.accepted.Load()-idleBefore)
		}
	})

	t.Run("missing backend closes", func(t *testing.T) {
		if got := greetings(t, ports.missing, 20); got[""] != 20 {
			t.Errorf("20 connections to a route whose only backend is missing: %v, want all closed", got)
		}
		const n = 100
		bBefore := b.accepted.Load()
		got := greetings(t, ports.half, n)
		t.Logf("%d connections, one valid and one missing backend: %v", n, got)
		if got[""] < n/2-2 || got[""] > n/2+2 || got["b"] != n-got[""] {
			t.Errorf("%d connections: %v, want half closed and half to b", n, got)
		}
		if reached := b.accepted.Load() - bBefore; reached != int64(got["b"]) {
			t.Errorf("b accepted %d connections, %d greeted", reached, got["b"])
		}
	})

	t.Run("weights 3:1 across pushes", func(t *testing.T) {
		testTCPWeightsAcrossPushes(t, d, ports)
	})

	t.Run("long-lived connection across pushes", func(t *testing.T) {
		testTCPAcrossPushes(t, d, ports)
	})
}

// tcpPushes is the number of config pushes a long-lived TCP connection is held across.
const tcpPushes = 50

// testTCPAcrossPushes holds one connection through the echo listener open while the
// config is pushed tcpPushes times with the unrelated HTTPRoute's path changed each
// time, checks after each push that the connection still echoes, and counts the pushes
// that closed it (it is reopened then). Caddy's layer4 app leaves the connections of
// its old servers open: no push may close it.
func testTCPAcrossPushes(t *testing.T, d *dataPlane, ports tcpPorts) {
	push := startAdminPush(t, d)
	c, r, _ := dialTCP(t, ports.echo)
	closed := 0
	start := time.Now()
	for n := 1; n <= tcpPushes; n++ {
		reload(t, push, d.reloadingConfig(tcpFixtureAt(ports, n)), n)
		if !echoes(c, r, fmt.Sprintf("after push %d", n)) {
			closed++
			_ = c.Close()
			c, r, _ = dialTCP(t, ports.echo)
		}
	}
	t.Logf("%d pushes in %v closed the long-lived TCP connection %d times", tcpPushes,
		time.Since(start).Round(time.Millisecond), closed)
	if closed != 0 {
		t.Errorf("%d of %d pushes closed the long-lived TCP connection, want 0", closed, tcpPushes)
	}
	// The pushes took effect: the HTTP route is at its last path.
	for path, want := range map[string]int{fmt.Sprintf("/churn-%d", tcpPushes): 200, fmt.Sprintf("/churn-%d", tcpPushes-1): 404} {
		d.expect("GET", path, nil, want)
	}
}

package emit_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/testports"
)

// udpCloseFixture has an HTTP listener whose route changes with CHURN and a UDP listener
// (UDP_AT) whose UDPRoute the config has when ROUTE is not commented out.
const udpCloseFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: PORT, protocol: HTTP}
  - {name: udp, port: %d, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 7000, protocol: UDP}, {port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: churn, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: Exact, value: /churn-%d}}]
    backendRefs: [{name: a, port: 8080}]
%s`

const udpCloseRoute = `---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: udp, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: udp}]
  rules:
  - backendRefs: [{name: a, port: 7000}]
`

// pushedTo sends a datagram from the backend to the Gateway's socket of a session (via)
// and reports whether the session's client received it within udpDropWait.
func pushedTo(t *testing.T, backend *udpEcho, via string, s *udpSession, msg string) bool {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", via)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backend.pc.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	_ = s.c.SetReadDeadline(time.Now().Add(udpDropWait))
	buf := make([]byte, 64)
	n, err := s.c.Read(buf)
	return err == nil && string(buf[:n]) == msg
}

// released reports whether the Gateway's socket of a session (via) is closed within
// limit: its address can be bound again.
func released(via string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		if pc, err := net.ListenPacket("udp", via); err == nil {
			_ = pc.Close()
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// TestDataPlaneUDPSessionFollowsItsRule exchanges datagrams through the Gateway, the
// backend also sending to the session on its own, across a push of an unrelated change,
// then deletes the route: the session ends at once, its socket towards the backend
// closed (without the cut it stays until the idle timeout, 30s), and the client's next
// datagram is not answered. Caddy opens a new socket for a UDP listener with every
// config load and closes the old one, so the client's datagrams after a load start a
// session of the new config (the test logs whether the session's socket changed).
func TestDataPlaneUDPSessionFollowsItsRule(t *testing.T) {
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
	d := startDataPlane(t, fixture(0, true), backends)
	push := startAdminPush(t, d)

	s := dialUDP(t, port)
	name, first := s.exchange("hello", 5*time.Second)
	if name != "a" || !pushedTo(t, a, first, s, "before any push") {
		t.Fatalf("answer from %q; the backend's own datagram to the session did not reach its client", name)
	}
	push.load(t, d.reloadingConfig(fixture(1, true)))
	name, via := s.exchange("again", 5*time.Second)
	if name != "a" || !pushedTo(t, a, via, s, "after an unrelated push") {
		t.Fatalf("after an unrelated push: answer from %q; the backend's own datagram to the session did not reach its client", name)
	}
	t.Logf("after an unrelated push the client's datagrams came through the same socket towards the backend: %v", via == first)

	start := time.Now()
	push.load(t, d.reloadingConfig(fixture(2, false)))
	if !released(via, cutLimit) {
		t.Errorf("%v after the push that deleted its route, the session's socket towards the backend is still open", cutLimit)
	}
	took := time.Since(start)
	if name, _ := s.exchange("after the route was deleted", udpDropWait); name != "" {
		t.Errorf("a datagram after the route was deleted was answered by %s", name)
	}
	t.Logf("the session ended %v after the push that deleted its route began", took.Round(time.Millisecond))
}

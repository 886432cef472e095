package emit_test

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddymod/l4smooth"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/testports"
)

// closeState says which parts of closeFixture a config has.
type closeState struct {
	// churn is the path of the unrelated HTTPRoute.
	churn int
	// gone keeps the TCPRoute of the gone listener.
	gone bool
	// shrinkB keeps backend b in the shrink route's rule; shrinkWeights are a's and b's.
	shrinkB       bool
	shrinkWeights [2]int
	// granted keeps the ReferenceGrant that admits the grant route's backend.
	granted bool
	// otherWeightA is a's weight in the other route (b has 1).
	otherWeightA int
}

// closePorts are the TCP listener ports of closeFixture.
type closePorts struct{ gone, shrink, grant, other int }

// closeFixture is a Gateway whose TCP listeners gone (one backend, a), shrink (a and b),
// grant (a backend in namespace backends, admitted by a ReferenceGrant) and other (a
// and b) serve one TCPRoute each, beside an HTTP listener whose route changes with churn.
func closeFixture(p closePorts, s closeState) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: http, port: PORT, protocol: HTTP}
  - {name: gone, port: %d, protocol: TCP}
  - {name: shrink, port: %d, protocol: TCP}
  - {name: grant, port: %d, protocol: TCP}
  - {name: other, port: %d, protocol: TCP}
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
metadata: {name: granted, namespace: backends}
spec: {ports: [{port: 7000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: churn, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: Exact, value: /churn-%d}}]
    backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: grant, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: grant}]
  rules:
  - backendRefs: [{name: granted, namespace: backends, port: 7000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: other, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: other}]
  rules:
  - backendRefs:
    - {name: a, port: 7000, weight: %d}
    - {name: b, port: 7000, weight: 1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: shrink, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: shrink}]
  rules:
  - backendRefs:
    - {name: a, port: 7000, weight: %d}
`, p.gone, p.shrink, p.grant, p.other, s.churn, s.otherWeightA, s.shrinkWeights[0])
	if s.shrinkB {
		fmt.Fprintf(&b, "    - {name: b, port: 7000, weight: %d}\n", s.shrinkWeights[1])
	}
	if s.gone {
		b.WriteString(`---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: gone, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: gone}]
  rules:
  - backendRefs: [{name: a, port: 7000}]
`)
	}
	if s.granted {
		b.WriteString(`---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: tcp-from-default, namespace: backends}
spec:
  from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
`)
	}
	return b.String()
}

// openConn is a connection held open through the Gateway to a named backend.
type openConn struct {
	name string
	c    net.Conn
	r    *bufio.Reader
}

// dialBackend connects to a TCP listener until the backend named want greets.
func dialBackend(t *testing.T, port int, want string) *openConn {
	t.Helper()
	for range 8 {
		c, r, name := dialTCP(t, port)
		if name == want {
			return &openConn{name: fmt.Sprintf("port %d to %s", port, want), c: c, r: r}
		}
		_ = c.Close()
	}
	t.Fatalf("port %d: backend %s never greeted", port, want)
	return nil
}

// requireOpen fails unless every connection still echoes.
func requireOpen(t *testing.T, after string, conns ...*openConn) {
	t.Helper()
	for _, o := range conns {
		if !echoes(o.c, o.r, after) {
			t.Fatalf("%s: the connection %s was closed", after, o.name)
		}
	}
}

// cutLimit is how long a connection whose backend left its rule may stay open after
// the push that removed it returned.
const cutLimit = 2 * time.Second

// requireCut marks the test failed unless the connection is closed within cutLimit, and returns when.
func requireCut(t *testing.T, after string, o *openConn) time.Duration {
	t.Helper()
	took, ok := closedWithin(o.c, o.r, cutLimit)
	if !ok {
		t.Errorf("%s: the connection %s stayed open for %v", after, o.name, cutLimit)
	}
	return took
}

// trackedAfterGC collects garbage until the running config tracks want connections,
// for up to 5s, and returns how many it tracks.
func trackedAfterGC(want int) int {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		runtime.GC()
		if n := l4smooth.Tracked(); n == want || time.Now().After(deadline) {
			return n
		}
	}
}

// TestDataPlaneTCPConnectionsFollowTheirRule holds connections open through the Gateway
// while configs are pushed through the admin-proxy: tcpPushes pushes of an unrelated
// HTTPRoute, a push that changes another rule's weights and one that changes their own
// rule's weights leave every connection open; then a push that sets a connection's
// backend's weight to 0 (the translator leaves such a backend out of the rule), one that
// deletes its route, one that removes its backend from the rule, and one that revokes the
// ReferenceGrant that admitted its cross-namespace backend each close that connection,
// and only that one. Connections that end normally are not tracked once they are garbage.
func TestDataPlaneTCPConnectionsFollowTheirRule(t *testing.T) {
	a, b, granted := startTCPEcho(t, "a"), startTCPEcho(t, "b"), startTCPEcho(t, "granted")
	backends := map[string]string{
		"a.default.svc.cluster.local:7000":        a.addr(),
		"b.default.svc.cluster.local:7000":        b.addr(),
		"granted.backends.svc.cluster.local:7000": granted.addr(),
		"a.default.svc.cluster.local:8080":        echoBackend(t, "http").Listener.Addr().String(),
	}
	ports := closePorts{gone: testports.Port(t), shrink: testports.Port(t), grant: testports.Port(t), other: testports.Port(t)}
	state := closeState{gone: true, shrinkB: true, shrinkWeights: [2]int{1, 1}, granted: true, otherWeightA: 3}
	d := startDataPlaneWith(t, closeFixture(ports, state), backends,
		emit.Options{RefusedBackend: "unix/" + filepath.Join(t.TempDir(), "refused.sock")})
	push := startAdminPush(t, d)
	apply := func(s closeState) {
		t.Helper()
		state = s
		push.load(t, d.reloadingConfig(closeFixture(ports, s)))
	}

	toGone := dialBackend(t, ports.gone, "a")
	toShrinkA, toShrinkB := dialBackend(t, ports.shrink, "a"), dialBackend(t, ports.shrink, "b")
	toGranted := dialBackend(t, ports.grant, "granted")
	toOther := dialBackend(t, ports.other, "b")
	all := []*openConn{toGone, toShrinkA, toShrinkB, toGranted, toOther}

	for n := 1; n <= tcpPushes; n++ {
		s := state
		s.churn = n
		apply(s)
		requireOpen(t, fmt.Sprintf("unrelated push %d", n), all...)
	}
	s := state
	s.otherWeightA = 1
	apply(s)
	requireOpen(t, "a push changing another rule's weights", all...)
	s.shrinkWeights = [2]int{3, 1}
	apply(s)
	requireOpen(t, "a push changing the rule's own weights", all...)

	// The translator leaves a backend of weight 0 out of its rule: its connections go.
	s.shrinkWeights = [2]int{1, 0}
	apply(s)
	tookZero := requireCut(t, "setting the backend's weight to 0", toShrinkB)
	requireOpen(t, "setting another backend's weight to 0", toGone, toShrinkA, toGranted, toOther)
	if got := greetings(t, ports.shrink, 4); got["a"] != 4 {
		t.Fatalf("new connections after b's weight went to 0: %v, want all to a", got)
	}
	s.shrinkWeights = [2]int{1, 1}
	apply(s)
	toShrinkB = dialBackend(t, ports.shrink, "b")

	s.gone = false
	apply(s)
	tookRoute := requireCut(t, "deleting the route", toGone)
	requireOpen(t, "deleting another route", toShrinkA, toShrinkB, toGranted, toOther)

	s.shrinkB = false
	apply(s)
	tookBackend := requireCut(t, "removing the backend from the rule", toShrinkB)
	requireOpen(t, "removing another backend from the rule", toShrinkA, toGranted, toOther)

	s.granted = false
	apply(s)
	tookGrant := requireCut(t, "revoking the ReferenceGrant", toGranted)
	requireOpen(t, "revoking another rule's ReferenceGrant", toShrinkA, toOther)
	if got := greetings(t, ports.grant, 4); got[""] != 4 {
		t.Errorf("new connections after the ReferenceGrant was revoked: %v, want all closed", got)
	}
	// Connections that ended normally leave nothing tracked once they are garbage.
	const ended = 200
	greetings(t, ports.other, ended)
	before := l4smooth.Tracked()
	if left := trackedAfterGC(2); left != 2 {
		t.Errorf("after %d connections ended normally, %d are tracked, want the 2 still open", ended, left)
	}
	t.Logf("%d connections ended normally: %d tracked before a garbage collection, 2 after", ended, before)
	requireOpen(t, "the connections ending", toShrinkA, toOther)

	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("%d unrelated pushes and 2 weight changes kept %d connections open; closed after the push: weight 0 %v, route deleted %v, backend removed %v, ReferenceGrant revoked %v",
		tcpPushes, len(all), ms(tookZero), ms(tookRoute), ms(tookBackend), ms(tookGrant))
}

package emit_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// grpcMirrorFixture routes by the x-case header: "mirror" mirrors every call to the
// shadow service (rule level); "split" divides calls 1:1 between a, which gets a header
// of its own, and b, whose calls alone are mirrored (backend level).
const grpcMirrorFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: shadow, namespace: default}
spec: {ports: [{port: 9000, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: mirror, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{headers: [{name: x-case, value: mirror}]}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: shadow, port: 9000}}
    backendRefs: [{name: a, port: 9000}]
  - matches: [{headers: [{name: x-case, value: split}]}]
    backendRefs:
    - name: a
      port: 9000
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-from-gateway, value: a-only}]}
    - name: b
      port: 9000
      filters:
      - type: RequestMirror
        requestMirror: {backendRef: {name: shadow, port: 9000}}
`

// grpcSink is a gRPC health server that counts the calls it receives by x-case.
type grpcSink struct {
	addr string
	mu   sync.Mutex
	seen map[string]int
}

func newGRPCSink(t *testing.T) *grpcSink {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &grpcSink{addr: lis.Addr().String(), seen: map[string]int{}}
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		k.mu.Lock()
		k.seen[first(md.Get("x-case"))]++
		k.mu.Unlock()
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return k
}

// settle waits until the count for c stops changing for 200ms (at most 3s).
func (k *grpcSink) settle(c string) int {
	last, since := -1, time.Now()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		k.mu.Lock()
		n := k.seen[c]
		k.mu.Unlock()
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 200*time.Millisecond {
			break
		}
	}
	return last
}

// TestDataPlaneGRPCRouteMirror makes real gRPC calls through Caddy and shows that
// mirrored copies reach a gRPC server over h2c, and that backendRef filters of a
// GRPCRoute apply to their backend's calls only.
func TestDataPlaneGRPCRouteMirror(t *testing.T) {
	shadow := newGRPCSink(t)
	d := startDataPlane(t, grpcMirrorFixture, map[string]string{
		"a.default.svc.cluster.local:9000":      grpcBackend(t, "a"),
		"b.default.svc.cluster.local:9000":      grpcBackend(t, "b"),
		"shadow.default.svc.cluster.local:9000": shadow.addr,
	})
	conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := healthpb.NewHealthClient(conn)
	check := func(t *testing.T, c string) metadata.MD {
		t.Helper()
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-case", c), 5*time.Second)
		defer cancel()
		var hdr metadata.MD
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr)); err != nil {
			t.Fatalf("Check (x-case %s): %v", c, err)
		}
		return hdr
	}
	t.Run("GRPCRouteRequestMirror", func(t *testing.T) {
		for range 3 {
			if got := first(check(t, "mirror").Get("x-backend")); got != "a" {
				t.Errorf("served by %q, want a", got)
			}
		}
		if n := shadow.settle("mirror"); n != 3 {
			t.Errorf("shadow got %d copies of 3 calls", n)
		}
	})
	t.Run("GRPCRouteBackendFilters", func(t *testing.T) {
		seen := map[string]int{}
		for range 4 {
			hdr := check(t, "split")
			b, from := first(hdr.Get("x-backend")), first(hdr.Get("x-saw-from-gateway"))
			seen[b]++
			if want := map[string]string{"a": "a-only", "b": ""}[b]; from != want {
				t.Errorf("%s saw x-from-gateway %q, want %q", b, from, want)
			}
		}
		if seen["a"] != 2 || seen["b"] != 2 {
			t.Errorf("split %v, want 2 each", seen)
		}
		if n := shadow.settle("split"); n != 2 {
			t.Errorf("shadow got %d copies, want 2 (b's share only)", n)
		}
	})
}

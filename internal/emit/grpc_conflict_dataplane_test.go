package emit_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcPartialConflictFixture: the HTTPRoute web holds one.example.com (listener one);
// the newer GRPCRoutes lose that listener to it and serve on listener two only.
const grpcPartialConflictFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: one, port: PORT, protocol: HTTP, hostname: one.example.com}
  - {name: two, port: PORT, protocol: HTTP, hostname: two.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: g, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: wide, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: one}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: per-listener, namespace: default, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: one}, {name: gw, sectionName: two}]
  rules:
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}}]
    backendRefs: [{name: g, port: 9000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: gateway-wide, namespace: default, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}, headers: [{name: x-wide, value: "yes"}]}]
    backendRefs: [{name: wide, port: 9000}]
`

// TestDataPlaneGRPCPartialConflict shows routes that lost a hostname conflict on one
// listener serving on the other, while the winner keeps the contested listener.
func TestDataPlaneGRPCPartialConflict(t *testing.T) {
	web := echoBackend(t, "web")
	d := startDataPlane(t, grpcPartialConflictFixture, map[string]string{
		"web.default.svc.cluster.local:8080":  web.Listener.Addr().String(),
		"g.default.svc.cluster.local:9000":    grpcBackend(t, "g"),
		"wide.default.svc.cluster.local:9000": grpcBackend(t, "wide"),
	})
	call := func(t *testing.T, authority string, md ...string) (string, error) {
		t.Helper()
		conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithAuthority(authority))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), md...), 5*time.Second)
		defer cancel()
		var hdr metadata.MD
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
		return first(hdr.Get("x-backend")), err
	}
	if b, err := call(t, "two.example.com"); err != nil || b != "g" {
		t.Errorf("per-listener GRPCRoute on listener two: served by %q (%v), want g", b, err)
	}
	if b, err := call(t, "two.example.com", "x-wide", "yes"); err != nil || b != "wide" {
		t.Errorf("Gateway-wide GRPCRoute on listener two: served by %q (%v), want wide", b, err)
	}
	// On listener one only the HTTPRoute is attached: the gRPC call reaches the HTTP
	// echo backend, which is no gRPC server.
	if b, err := call(t, "one.example.com"); err == nil || status.Code(err) == codes.OK || b != "" {
		t.Errorf("gRPC call on listener one: served by %q (%v), want no gRPC backend", b, err)
	}
	if e := d.expect("GET", "/page", map[string]string{"Host": "one.example.com"}, 200); e.Backend != "web" {
		t.Errorf("HTTP on listener one served by %q, want web", e.Backend)
	}
}

package emit_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// namedRulesFixture mixes named and unnamed rules in an HTTPRoute and a GRPCRoute.
const namedRulesFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: v1, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: v2, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: g1, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: g2, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: http-named-rules, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [web.example.com]
  rules:
  - name: named-rule
    matches: [{path: {value: /named}}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {value: /unnamed}}]
    backendRefs: [{name: v2, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc-named-rules, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - name: named-rule
    matches: [{method: {service: grpc.health.v1.Health, method: Check}, headers: [{name: x-rule, value: named}]}]
    backendRefs: [{name: g1, port: 9000}]
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}}]
    backendRefs: [{name: g2, port: 9000}]
`

// TestDataPlaneNamedRules routes HTTP and gRPC through named and unnamed rules.
func TestDataPlaneNamedRules(t *testing.T) {
	v1, v2 := echoBackend(t, "v1"), echoBackend(t, "v2")
	d := startDataPlane(t, namedRulesFixture, map[string]string{
		"v1.default.svc.cluster.local:8080": v1.Listener.Addr().String(),
		"v2.default.svc.cluster.local:8080": v2.Listener.Addr().String(),
		"g1.default.svc.cluster.local:9000": grpcBackend(t, "g1"),
		"g2.default.svc.cluster.local:9000": grpcBackend(t, "g2"),
	})
	t.Run("HTTPRouteNamedRule", func(t *testing.T) {
		for path, want := range map[string]string{"/named": "v1", "/unnamed": "v2"} {
			if e := d.expect("GET", path, map[string]string{"Host": "web.example.com"}, 200); e.Backend != want {
				t.Errorf("%s served by %q, want %s", path, e.Backend, want)
			}
		}
	})
	t.Run("GRPCRouteNamedRule", func(t *testing.T) {
		conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithAuthority("grpc.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for rule, want := range map[string]string{"named": "g1", "other": "g2"} {
			ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-rule", rule), 5*time.Second)
			var hdr metadata.MD
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
			cancel()
			if got := first(hdr.Get("x-backend")); err != nil || got != want {
				t.Errorf("x-rule %s: served by %q (%v), want %s", rule, got, err, want)
			}
		}
	})
}

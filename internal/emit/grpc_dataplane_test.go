package emit_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcFixture routes the gRPC health service through Caddy: exact service/method to
// backend a (with header filters), a header match to b, a weighted rule over a and b,
// a regex match for the server-streaming Watch, a rule whose backends are all invalid
// and one with half of its share invalid. Health/List matches nothing.
const grpcFixture = `
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
spec: {ports: [{port: 9000, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-from-gateway, value: "caddy {env.HOME}"}]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: x-resp, value: added}]}
    backendRefs: [{name: a, port: 9000}]
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}, headers: [{name: x-canary, value: "yes"}]}]
    backendRefs: [{name: b, port: 9000}]
  - matches: [{method: {service: grpc.health.v1.Health, method: Check}, headers: [{type: RegularExpression, name: x-split, value: "on|yes"}]}]
    backendRefs: [{name: a, port: 9000, weight: 1}, {name: b, port: 9000, weight: 1}]
  - matches: [{method: {type: RegularExpression, service: 'grpc\.health\.v[0-9]+\.Health', method: 'Wat.*'}}]
    backendRefs: [{name: b, port: 9000}]
  - matches: [{method: {service: broken.Service}}]
    backendRefs: [{name: missing, port: 9000}]
  - matches: [{method: {service: half.Service}}]
    backendRefs: [{name: a, port: 9000}, {name: missing, port: 9000}]
`

// grpcBackend serves the health service on 127.0.0.1 and tags every response with
// x-backend: name and the x-from-gateway value it received.
func grpcBackend(t *testing.T, name string) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tag := func(ctx context.Context) {
		md, _ := metadata.FromIncomingContext(ctx)
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-backend", name, "x-saw-from-gateway", first(md.Get("x-from-gateway"))))
	}
	s := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			tag(ctx)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			tag(ss.Context())
			return h(srv, ss)
		}))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// TestDataPlaneGRPCRoute makes real gRPC calls (h2c with prior knowledge, as gRPC
// clients do without TLS) through Caddy to gRPC backends.
func TestDataPlaneGRPCRoute(t *testing.T) {
	d := startDataPlane(t, grpcFixture, map[string]string{
		"a.default.svc.cluster.local:9000": grpcBackend(t, "a"),
		"b.default.svc.cluster.local:9000": grpcBackend(t, "b"),
	})
	conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := healthpb.NewHealthClient(conn)
	check := func(t *testing.T, md ...string) (metadata.MD, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), md...), 5*time.Second)
		defer cancel()
		var hdr metadata.MD
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check answered %v", resp.GetStatus())
		}
		return hdr, err
	}
	invoke := func(method string) codes.Code {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return status.Code(conn.Invoke(ctx, method, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}))
	}
	cases := map[string]func(t *testing.T){
		"GRPCRouteExactMethodAndHeaderFilters": func(t *testing.T) {
			hdr, err := check(t)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := first(hdr.Get("x-backend")); got != "a" {
				t.Errorf("served by %q, want a", got)
			}
			if got := first(hdr.Get("x-saw-from-gateway")); got != "caddy {env.HOME}" {
				t.Errorf("backend saw x-from-gateway %q, want the literal value", got)
			}
			if got := first(hdr.Get("x-resp")); got != "added" {
				t.Errorf("response header x-resp %q, want added", got)
			}
		},
		"GRPCRouteHeaderMatching": func(t *testing.T) {
			hdr, err := check(t, "x-canary", "yes")
			if err != nil || first(hdr.Get("x-backend")) != "b" {
				t.Errorf("x-canary: yes served by %q (%v), want b", first(hdr.Get("x-backend")), err)
			}
			hdr, err = check(t, "x-canary", "no")
			if err != nil || first(hdr.Get("x-backend")) != "a" {
				t.Errorf("x-canary: no served by %q (%v), want a", first(hdr.Get("x-backend")), err)
			}
		},
		"GRPCRouteWeightedBackends": func(t *testing.T) {
			seen := map[string]int{}
			for range 20 {
				hdr, err := check(t, "x-split", "on")
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				seen[first(hdr.Get("x-backend"))]++
			}
			if seen["a"] < 5 || seen["b"] < 5 || seen["a"]+seen["b"] != 20 {
				t.Errorf("weights 1:1 served %v, want about 10 each", seen)
			}
		},
		"GRPCRouteRegexServerStreaming": func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := stream.Recv() // arrives while the stream stays open: Caddy flushes h2 streams
			if err != nil || msg.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("Watch: %v %v", msg, err)
			}
			hdr, _ := stream.Header()
			if got := first(hdr.Get("x-backend")); got != "b" {
				t.Errorf("Watch served by %q, want b", got)
			}
		},
		"GRPCRouteUnmatchedMethodIsUnimplemented": func(t *testing.T) {
			// Caddy answers 404 for anything unmatched; gRPC clients map HTTP 404 to
			// UNIMPLEMENTED. The backend does implement List: the call never reached it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := client.List(ctx, &healthpb.HealthListRequest{})
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("List: %v, want Unimplemented", err)
			}
		},
		"GRPCRouteInvalidBackendsAreUnavailable": func(t *testing.T) {
			if got := invoke("/broken.Service/Do"); got != codes.Unavailable {
				t.Errorf("all backends invalid: %v, want Unavailable", got)
			}
			// Half the share goes to backend a (which does not implement the service: a
			// real gRPC Unimplemented), half to the invalid backend (Unavailable).
			seen := map[codes.Code]int{}
			for range 20 {
				seen[invoke("/half.Service/Do")]++
			}
			if seen[codes.Unimplemented] == 0 || seen[codes.Unavailable] == 0 || seen[codes.Unimplemented]+seen[codes.Unavailable] != 20 {
				t.Errorf("half-invalid rule answered %v, want only Unimplemented and Unavailable", seen)
			}
		},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) { d.t = t; cases[name](t) })
	}
}

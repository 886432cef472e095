package emit_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// grpcTLSFixture serves a GRPCRoute and an HTTPRoute on one HTTPS listener: TLS is
// terminated by Caddy, gRPC arrives as h2 (ALPN) and leaves as h2c to the backend.
const grpcTLSFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners:
  - {name: https, port: PORT, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: "@testcert", tls.key: "@testkey"}
---
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: default}
spec: {ports: [{port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {service: grpc.health.v1.Health}}]
    backendRefs: [{name: grpc, port: 9000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [www.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`

// TestDataPlaneGRPCOverHTTPS makes gRPC calls over TLS (h2 negotiated by ALPN) to an
// HTTPS listener, next to plain HTTPS traffic on another hostname.
func TestDataPlaneGRPCOverHTTPS(t *testing.T) {
	web := echoBackend(t, "web")
	d := startDataPlane(t, grpcTLSFixture, map[string]string{
		"grpc.default.svc.cluster.local:9000": grpcBackend(t, "grpc"),
		"web.default.svc.cluster.local:8080":  web.Listener.Addr().String(),
	})
	creds := credentials.NewTLS(fixtureTLS("grpc.example.com"))
	conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(creds),
		grpc.WithAuthority("grpc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hdr metadata.MD
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check over TLS: %v %v", resp, err)
	}
	if got := first(hdr.Get("x-backend")); got != "grpc" {
		t.Errorf("served by %q, want grpc", got)
	}

	// HTTPS (HTTP/1.1 or h2) on the same listener reaches the HTTPRoute.
	d.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: fixtureTLS("www.example.com"), ForceAttemptHTTP2: true}}
	d.base = strings.Replace(d.base, "http://", "https://", 1)
	resp2, e := d.do("GET", "/page", map[string]string{"Host": "www.example.com"})
	if resp2.StatusCode != 200 || e.Backend != "web" || resp2.ProtoMajor != 2 {
		t.Errorf("HTTPS request: %d from %q over %s, want 200 from web over HTTP/2", resp2.StatusCode, e.Backend, resp2.Proto)
	}
}

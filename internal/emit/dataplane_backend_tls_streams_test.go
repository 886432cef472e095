package emit_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/caddy-gateway/operator/internal/ir"
)

// grpcBackendTLSFixture routes the gRPC health service to Service grpc port 9443.
const grpcBackendTLSFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: default}
spec: {ports: [{port: 9443}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: grpc, port: 9443}]}]
`

// grpcTLSBackend serves the health service over TLS with cert on 127.0.0.1 (gRPC
// requires ALPN h2) and tags every response with x-backend: name.
func grpcTLSBackend(t *testing.T, name string, cert tls.Certificate) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			_ = grpc.SetHeader(ctx, metadata.Pairs("x-backend", name))
			return h(ctx, req)
		}))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// TestDataPlaneBackendTLSGRPC makes a gRPC call (h2c to Caddy) that Caddy forwards over
// TLS, HTTP/2 negotiated by ALPN, to a gRPC backend that verifies nothing but speaks
// only TLS.
func TestDataPlaneBackendTLSGRPC(t *testing.T) {
	ca := newTestCA(t, "backend-ca")
	addr := grpcTLSBackend(t, "grpc-tls", ca.serverCert(t, []string{"grpc.example.com"}))
	d := startDataPlane(t, grpcBackendTLSFixture, map[string]string{svcAddr("grpc", 9443): addr})
	setBackendTLS(d.ir, map[string]*ir.BackendTLS{addr: {ServerName: "grpc.example.com", TrustedCAs: []string{ca.pem}}})
	d.load(d.opts)

	conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hdr metadata.MD
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	if err != nil {
		t.Fatalf("Check through Caddy to the TLS backend: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING || first(hdr.Get("x-backend")) != "grpc-tls" {
		t.Errorf("status %v from %q, want SERVING from grpc-tls", resp.GetStatus(), first(hdr.Get("x-backend")))
	}
}

// TestDataPlaneBackendTLSWebSocket upgrades to a WebSocket through Caddy to a backend
// that speaks only TLS and offers h2 by ALPN: the upgrade must go over HTTP/1.1 on TLS
// (wss).
func TestDataPlaneBackendTLSWebSocket(t *testing.T) {
	ca := newTestCA(t, "backend-ca")
	s := tlsEchoBackend(t, "ws", ca.serverCert(t, []string{"ws.example.com"}), nil, wsEcho)
	addr := s.Listener.Addr().String()
	d := startDataPlane(t, backendTLSFixture("ws"), map[string]string{svcAddr("ws", 8443): addr})
	setBackendTLS(d.ir, map[string]*ir.BackendTLS{addr: {ServerName: "ws.example.com", TrustedCAs: []string{ca.pem}}})
	d.load(d.opts)
	testWebSocket(t, d)
}

// mirrorBackendTLSFixture mirrors /good to Service good and /bad to Service bad (both
// port 8443), and forwards both to Service a.
const mirrorBackendTLSFixture = `
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
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: good, namespace: default}
spec: {ports: [{port: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec: {ports: [{port: 8443}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /good}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: good, port: 8443}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /bad}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: bad, port: 8443}}}]
    backendRefs: [{name: a, port: 8080}]
`

// TestDataPlaneBackendTLSMirror mirrors requests to TLS backends: a copy reaches the
// one whose chain and name verify, presenting the Gateway's client certificate it
// requires; none reaches the one signed by another CA. The requests themselves are
// served either way.
func TestDataPlaneBackendTLSMirror(t *testing.T) {
	ca, otherCA, clientCA := newTestCA(t, "backend-ca"), newTestCA(t, "other-ca"), newTestCA(t, "client-ca")
	copies := make(chan string, 16)
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		copies <- r.URL.Path + " sni=" + r.TLS.ServerName + " client=" + r.TLS.PeerCertificates[0].Subject.CommonName
	})
	good := tlsEchoBackend(t, "good", ca.serverCert(t, []string{"mirror.example.com"}), clientCA.pool(), record)
	bad := tlsEchoBackend(t, "bad", otherCA.serverCert(t, []string{"mirror.example.com"}), clientCA.pool(), record)
	d := startDataPlane(t, mirrorBackendTLSFixture, map[string]string{
		svcAddr("a", 8080):    echoBackend(t, "a").Listener.Addr().String(),
		svcAddr("good", 8443): good.Listener.Addr().String(), svcAddr("bad", 8443): bad.Listener.Addr().String(),
	})
	mirrorTLS := &ir.BackendTLS{ServerName: "mirror.example.com", TrustedCAs: []string{ca.pem}, ClientCertificate: "default/backend-client"}
	for _, h := range d.ir.HTTP[0].Listeners[0].Hosts {
		for _, r := range h.Routes {
			for m := range r.Action.Mirrors {
				r.Action.Mirrors[m].TLS = mirrorTLS
			}
		}
	}
	d.ir.Certificates = append(d.ir.Certificates, gatewayCert(t, "default/backend-client", clientCA.clientCert(t)))
	d.load(d.opts)

	for _, path := range []string{"/bad", "/good"} {
		if e := d.expect("GET", path, nil, 200); e.Backend != "a" {
			t.Errorf("%s served by %q, want a", path, e.Backend)
		}
	}
	select {
	case got := <-copies:
		if want := "/good sni=mirror.example.com client=client"; got != want {
			t.Errorf("mirror copy %q, want %q", got, want)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no mirror copy reached the TLS backend")
	}
	select {
	case got := <-copies:
		t.Errorf("a second copy arrived: %q (the backend of another CA must get none)", got)
	case <-time.After(300 * time.Millisecond):
	}
}

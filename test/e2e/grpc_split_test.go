//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	pb "sigs.k8s.io/gateway-api-conformance-images/echo-basic/grpcechoserver"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

// The gRPC backends of grpcSplitUnderChurn, in the tenants' good namespace.
const (
	grpcMain   = "echo-grpc-main"
	grpcCanary = "echo-grpc-canary"
)

// grpcSplitUnderChurn is splitUnderChurn for a 90/10 GRPCRoute split, called over one
// h2c connection kept open throughout, as gRPC clients do: the weights hold per call,
// not per connection.
func grpcSplitUnderChurn(tn tenants) features.Feature {
	const host = "grpc-split.example.com"
	var echo pb.GrpcEchoClient
	pick := func(ctx context.Context) (bool, error) {
		pod, err := grpcEchoPod(ctx, echo)
		if err != nil {
			return false, err
		}
		if !strings.HasPrefix(pod, grpcMain+"-") && !strings.HasPrefix(pod, grpcCanary+"-") {
			return false, fmt.Errorf("answered by pod %q, neither %s nor %s", pod, grpcMain, grpcCanary)
		}
		return strings.HasPrefix(pod, grpcCanary+"-"), nil
	}
	return features.New("a 90/10 gRPC split while other routes change every second").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, grpcRoute(tn.good, "grpc-split", cfg.Namespace(), tenantsGateway, host,
				grpcBackendRef(grpcMain, 90), grpcBackendRef(grpcCanary, 10)))
			for _, name := range []string{grpcMain, grpcCanary} {
				if err := utils.WaitDeploymentAvailable(ctx, c, tn.good, name, pollTimeout); err != nil {
					t.Fatal(err)
				}
			}
			conn, err := grpc.NewClient(tn.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(host))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			echo = pb.NewGrpcEchoClient(conn)
			poll(ctx, t, "Echo for "+host+" via "+tn.addr, func(ctx context.Context) error {
				_, err := pick(ctx)
				return err
			})
			return ctx
		}).
		Assess("every 100 consecutive calls give the canary 10±2", splitRun{canaryPercent: 10, pick: pick}.assess(tn)).
		Feature()
}

// grpcEchoPod calls Echo through echo and returns the name of the pod that answered. A
// call the Gateway could not take (Unavailable: the connection failed or was closed by a
// reload) is an errDropped.
func grpcEchoPod(ctx context.Context, echo pb.GrpcEchoClient) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := echo.Echo(ctx, &pb.EchoRequest{}, grpc.WaitForReady(true))
	if status.Code(err) == codes.Unavailable {
		return "", fmt.Errorf("%w: %w", errDropped, err)
	}
	if err != nil {
		return "", fmt.Errorf("calling Echo: %w", err)
	}
	return resp.GetAssertions().GetContext().GetPod(), nil
}

// grpcRoute is a GRPCRoute in ns attached to Gateway gwNS/gw for hostname, with one rule
// sending every call to refs.
func grpcRoute(ns, name, gwNS, gw, hostname string, refs ...gwapiv1.GRPCBackendRef) *gwapiv1.GRPCRoute {
	return &gwapiv1.GRPCRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwapiv1.GRPCRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{
				Name: gwapiv1.ObjectName(gw), Namespace: ptr.To(gwapiv1.Namespace(gwNS)),
			}}},
			Hostnames: []gwapiv1.Hostname{gwapiv1.Hostname(hostname)},
			Rules:     []gwapiv1.GRPCRouteRule{{BackendRefs: refs}},
		},
	}
}

// grpcBackendRef names port 8080 of Service name with weight.
func grpcBackendRef(name string, weight int32) gwapiv1.GRPCBackendRef {
	return gwapiv1.GRPCBackendRef{BackendRef: backendRef("", name, weight).BackendRef}
}

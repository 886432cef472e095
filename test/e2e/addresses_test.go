//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
)

// The addresses of the local cluster's Service CIDR (10.96.0.0/16) the test asks for: the
// lowest 256 addresses are handed out only on request, so these are free; the first one
// is the API server's own Service, which no other Service can have.
const (
	staticIP      = "10.96.0.78"
	movedIP       = "10.96.0.79"
	takenIP       = "10.96.0.1"
	outOfRangeIP  = "192.0.2.10"
	addressesWait = 3 * time.Second
)

// caddyAnswers sends GET / to ip's listener port and checks that the Gateway's Caddy
// answered: 404 (no routes) from a server that names itself Caddy.
func caddyAnswers(ctx context.Context, ip string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, fmt.Sprint(listenerPort))+"/", nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Server") != "Caddy" {
		return fmt.Errorf("GET %s: %d from server %q, want 404 from Caddy", ip, resp.StatusCode, resp.Header.Get("Server"))
	}
	return nil
}

// gatewayAddressesAre checks the Gateway's status.addresses: these IPs, with routability Cluster.
func gatewayAddressesAre(ctx context.Context, c client.Client, ns, name string, want ...string) error {
	var gw gwapiv1.Gateway
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
		return err
	}
	var got []string
	for _, a := range gw.Status.Addresses {
		if a.Routability == nil || *a.Routability != gwapiv1.GatewayAddressRoutabilityCluster {
			return fmt.Errorf("status address %+v does not report routability Cluster", a)
		}
		got = append(got, a.Value)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("status.addresses %v, want %v", got, want)
	}
	return nil
}

func setGatewayAddresses(ctx context.Context, t *testing.T, c client.Client, ns, name string, addrs ...gwapiv1.GatewaySpecAddress) {
	t.Helper()
	var gw gwapiv1.Gateway
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(gw.DeepCopy())
	gw.Spec.Addresses = addrs
	if err := c.Patch(ctx, &gw, patch); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayAddresses(t *testing.T) {
	const gwName = "addresses"
	class := envconf.RandomName("e2e-addresses", 20)
	ip := func(v string) gwapiv1.GatewaySpecAddress {
		return gwapiv1.GatewaySpecAddress{Type: ptr.To(gwapiv1.IPAddressType), Value: v}
	}
	var uid types.UID
	f := features.New("a Gateway's requested addresses").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			gw := httpGateway(ns, gwName, class)
			gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{ip(staticIP)}
			for _, o := range []client.Object{onePodParams(ns, "class"), gatewayClass(class, ns, "class"), gw} {
				if err := c.Create(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			return ctx
		}).
		Assess("a static cluster IP is the Service's, and Caddy answers on it", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			svc := gatewayService(ctx, t, c, ns, gwName)
			if svc.Spec.ClusterIP != staticIP {
				t.Fatalf("the Service's cluster IP is %s, want %s", svc.Spec.ClusterIP, staticIP)
			}
			uid = svc.UID
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			poll(ctx, t, "status.addresses", func(ctx context.Context) error { return gatewayAddressesAre(ctx, c, ns, gwName, staticIP) })
			poll(ctx, t, "Caddy on "+staticIP, func(ctx context.Context) error { return caddyAnswers(ctx, staticIP) })
			return ctx
		}).
		Assess("a refused address gives AddressNotUsable while the previous address keeps serving", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			for _, bad := range []string{takenIP, outOfRangeIP} {
				setGatewayAddresses(ctx, t, c, ns, gwName, ip(bad))
				poll(ctx, t, "Programmed=False AddressNotUsable naming "+bad, func(ctx context.Context) error {
					cond, err := gatewayCondition(ctx, c, ns, gwName, string(gwapiv1.GatewayConditionProgrammed))
					if err != nil {
						return err
					}
					if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != string(gwapiv1.GatewayReasonAddressNotUsable) ||
						!strings.Contains(cond.Message, "address "+bad+": the API server refused it") {
						return fmt.Errorf("Programmed: %+v", cond)
					}
					return nil
				})
				t.Logf("refused %s: Programmed=False AddressNotUsable", bad)
				deadline := time.Now().Add(addressesWait)
				for time.Now().Before(deadline) {
					var svc corev1.Service
					if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &svc); err != nil {
						t.Fatal(err)
					}
					if svc.UID != uid || svc.Spec.ClusterIP != staticIP {
						t.Fatalf("the Service was replaced: uid %s → %s, cluster IP %s", uid, svc.UID, svc.Spec.ClusterIP)
					}
					if err := caddyAnswers(ctx, staticIP); err != nil {
						t.Fatalf("the previous address stopped serving: %v", err)
					}
					if err := gatewayAddressesAre(ctx, c, ns, gwName, staticIP); err != nil {
						t.Fatal(err)
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			return ctx
		}).
		Assess("a cluster-only request gets a ClusterIP Service although the class asks for a LoadBalancer", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			var cpc v1alpha1.CaddyProxyConfig
			if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "class"}, &cpc); err != nil {
				t.Fatal(err)
			}
			cpc.Spec.Service = &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeLoadBalancer)}
			if err := c.Update(ctx, &cpc); err != nil {
				t.Fatal(err)
			}
			moved := ip(movedIP)
			moved.Routability = gwapiv1.GatewayAddressRoutabilityCluster
			setGatewayAddresses(ctx, t, c, ns, gwName, moved)
			poll(ctx, t, "the Service on "+movedIP, func(ctx context.Context) error {
				var svc corev1.Service
				if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: infra.NamesFor(gwName).Workload}, &svc); err != nil {
					return err
				}
				if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP != movedIP {
					return fmt.Errorf("Service of type %s on %s", svc.Spec.Type, svc.Spec.ClusterIP)
				}
				return nil
			})
			programmed(ctx, t, c, ns, gwName, "1/1 pods programmed")
			poll(ctx, t, "status.addresses", func(ctx context.Context) error { return gatewayAddressesAre(ctx, c, ns, gwName, movedIP) })
			poll(ctx, t, "Caddy on "+movedIP, func(ctx context.Context) error { return caddyAnswers(ctx, movedIP) })
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			deleteAll(ctx, t, c, httpGateway(ns, gwName, class), onePodParams(ns, "class"),
				&gwapiv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class}})
			return ctx
		}).Feature()
	testenv.Test(t, f)
}

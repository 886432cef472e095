package controller_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
)

// serviceCIDRAddress returns the address at offset host in the /24 of the API server's own
// Service (the "kubernetes" Service, which holds the first address of the Service CIDR),
// and that taken address. host must be 2..16: the API server hands out the first 16
// addresses of a /24 to Services that ask for none only when the rest are taken, so
// another test's Service never holds one of them, while any higher one may be.
func serviceCIDRAddress(t *testing.T, host byte) (free, taken string) {
	t.Helper()
	if host < 2 || host > 16 {
		t.Fatalf("host %d is outside 2..16, where other Services may take it", host)
	}
	var api corev1.Service
	if err := k8s.Get(ctxFor(t), types.NamespacedName{Namespace: "default", Name: "kubernetes"}, &api); err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(api.Spec.ClusterIP)
	if err != nil || !ip.Is4() {
		t.Fatalf("the kubernetes Service's cluster IP %q is not IPv4", api.Spec.ClusterIP)
	}
	b := ip.As4()
	b[3] = host
	return netip.AddrFrom4(b).String(), api.Spec.ClusterIP
}

func withAddresses(addrs ...gwapiv1.GatewaySpecAddress) gatewayOption {
	return func(gw *gwapiv1.Gateway) { gw.Spec.Addresses = addrs }
}

func ipAddress(v string) gwapiv1.GatewaySpecAddress {
	return gwapiv1.GatewaySpecAddress{Type: ptr.To(gwapiv1.IPAddressType), Value: v}
}

// conditionIs checks the Gateway's condition typ: status, reason and a message part.
func conditionIs(typ string, st metav1.ConditionStatus, reason gwapiv1.GatewayConditionReason, msgPart string) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		c := meta.FindStatusCondition(gw.Status.Conditions, typ)
		switch {
		case c == nil:
			return fmt.Errorf("no %s condition in %+v", typ, gw.Status.Conditions)
		case c.ObservedGeneration != gw.Generation:
			return fmt.Errorf("%s condition is of generation %d, not %d", typ, c.ObservedGeneration, gw.Generation)
		case c.Status != st || c.Reason != string(reason) || !strings.Contains(c.Message, msgPart):
			return fmt.Errorf("%s condition is %s/%s %q, want %s/%s containing %q", typ, c.Status, c.Reason, c.Message, st, reason, msgPart)
		}
		return nil
	}
}

// addressesAre checks status.addresses: exactly these IP addresses with this routability.
func addressesAre(r gwapiv1.GatewayAddressRoutabilityType, values ...string) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		var got []string
		for _, a := range gw.Status.Addresses {
			if a.Type == nil || *a.Type != gwapiv1.IPAddressType || a.Routability == nil || *a.Routability != r {
				return fmt.Errorf("status address %+v is not an IPAddress of routability %q", a, r)
			}
			got = append(got, a.Value)
		}
		if !slices.Equal(got, values) {
			return fmt.Errorf("status.addresses are %v, want %v", got, values)
		}
		return nil
	}
}

func all(checks ...func(*gwapiv1.Gateway) error) func(*gwapiv1.Gateway) error {
	return func(gw *gwapiv1.Gateway) error {
		for _, c := range checks {
			if err := c(gw); err != nil {
				return err
			}
		}
		return nil
	}
}

// A static cluster IP is honoured; an unsupported type is refused with UnsupportedAddress;
// a taken or out-of-range address gives AddressNotUsable naming it while the Service keeps
// its previous address; a free one moves the Service to it.
func TestGatewayStaticAddresses(t *testing.T) {
	first, taken := serviceCIDRAddress(t, 11)
	second, _ := serviceCIDRAddress(t, 12)
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)}},
		withAddresses(ipAddress(first)))
	svc := waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.ClusterIP != first {
			return fmt.Errorf("cluster IP is %s, want %s", s.Spec.ClusterIP, first)
		}
		return nil
	})
	uid := svc.UID
	assigned := conditionIs(string(gwapiv1.GatewayConditionAddressesAssigned), metav1.ConditionTrue, gwapiv1.GatewayReasonAddressesAssigned, "")
	f.waitGateway(t, all(addressesAre(gwapiv1.GatewayAddressRoutabilityCluster, first), assigned))

	setAddresses := func(addrs ...gwapiv1.GatewaySpecAddress) {
		update(t, f.gateway, func(gw *gwapiv1.Gateway) { gw.Spec.Addresses = addrs })
	}
	setAddresses(gwapiv1.GatewaySpecAddress{Type: ptr.To(gwapiv1.HostnameAddressType), Value: "gw.example.com"})
	f.waitGateway(t, conditionIs(string(gwapiv1.GatewayConditionAccepted), metav1.ConditionFalse,
		gwapiv1.GatewayReasonUnsupportedAddress, `spec.addresses[0]: address type "Hostname" is not supported`))

	for _, bad := range []string{taken, "192.0.2.1"} {
		setAddresses(ipAddress(bad))
		f.waitGateway(t, all(
			gatewayAcceptedIs(gatewayAccepted),
			conditionIs(string(gwapiv1.GatewayConditionProgrammed), metav1.ConditionFalse, gwapiv1.GatewayReasonAddressNotUsable, "address "+bad+": the API server refused it"),
			conditionIs(string(gwapiv1.GatewayConditionAddressesAssigned), metav1.ConditionFalse, gwapiv1.GatewayReasonAddressesNotAssigned, "address "+bad),
			// The previous address keeps serving, and is listed as such.
			addressesAre(gwapiv1.GatewayAddressRoutabilityCluster, first)))
		consistently(t, quietPeriod, func() error {
			var now corev1.Service
			if err := k8s.Get(ctxFor(t), f.workload(), &now); err != nil {
				return err
			}
			if now.UID != uid || now.Spec.ClusterIP != first {
				return fmt.Errorf("the Service was replaced (uid %s, cluster IP %s)", now.UID, now.Spec.ClusterIP)
			}
			return nil
		})
	}

	setAddresses(ipAddress(second))
	waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.ClusterIP != second {
			return fmt.Errorf("cluster IP is %s, want %s", s.Spec.ClusterIP, second)
		}
		return nil
	})
	f.waitGateway(t, all(addressesAre(gwapiv1.GatewayAddressRoutabilityCluster, second), assigned,
		conditionIs(string(gwapiv1.GatewayConditionProgrammed), metav1.ConditionFalse, gwapiv1.GatewayReasonPending, "no Caddy pod")))

	// Without addresses the condition goes, and the Service keeps its cluster IP.
	setAddresses()
	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwapiv1.GatewayConditionAddressesAssigned)); c != nil {
			return fmt.Errorf("AddressesAssigned is still there: %+v", c)
		}
		return addressesAre(gwapiv1.GatewayAddressRoutabilityCluster, second)(gw)
	})
}

// A Gateway whose addresses all ask for routability Cluster gets a ClusterIP Service even
// though its class configures a LoadBalancer; an unsupported routability leaves its entry
// unassigned.
func TestGatewayAddressRoutability(t *testing.T) {
	cluster := gwapiv1.GatewaySpecAddress{Type: ptr.To(gwapiv1.IPAddressType), Routability: gwapiv1.GatewayAddressRoutabilityCluster}
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
		Type: ptr.To(corev1.ServiceTypeLoadBalancer), LoadBalancerSourceRanges: []string{"10.0.0.0/8"},
	}}, withAddresses(cluster))
	svc := waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.Type != corev1.ServiceTypeClusterIP || s.Spec.ClusterIP == "" {
			return fmt.Errorf("the Service is of type %s with cluster IP %q, want a ClusterIP Service", s.Spec.Type, s.Spec.ClusterIP)
		}
		return nil
	})
	f.waitGateway(t, all(addressesAre(gwapiv1.GatewayAddressRoutabilityCluster, svc.Spec.ClusterIP),
		conditionIs(string(gwapiv1.GatewayConditionAddressesAssigned), metav1.ConditionTrue, gwapiv1.GatewayReasonAddressesAssigned, "")))

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{{Type: ptr.To(gwapiv1.IPAddressType), Routability: "example.com/corp-wan"}}
	})
	f.waitGateway(t, all(
		gatewayAcceptedIs(gatewayAccepted),
		conditionIs(string(gwapiv1.GatewayConditionProgrammed), metav1.ConditionFalse, gwapiv1.GatewayReasonAddressNotAssigned,
			`routability "example.com/corp-wan" is not supported`),
		conditionIs(string(gwapiv1.GatewayConditionAddressesAssigned), metav1.ConditionFalse, gwapiv1.GatewayReasonAddressesNotAssigned,
			`routability "example.com/corp-wan"`),
		addressesAre(gwapiv1.GatewayAddressRoutabilityCluster)))
	// Not cluster-only any more: the configured LoadBalancer type is back.
	waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			return fmt.Errorf("the Service is of type %s, want LoadBalancer", s.Spec.Type)
		}
		return nil
	})

	// The conformance sentinel is accepted and reported back as requested.
	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Service = &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)}
	})
	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.Addresses = []gwapiv1.GatewaySpecAddress{{Type: ptr.To(gwapiv1.IPAddressType), Routability: infra.RoutabilitySentinel}}
	})
	svc = waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.Type != corev1.ServiceTypeClusterIP {
			return fmt.Errorf("the Service is of type %s, want ClusterIP", s.Spec.Type)
		}
		return nil
	})
	f.waitGateway(t, all(addressesAre(infra.RoutabilitySentinel, svc.Spec.ClusterIP),
		conditionIs(string(gwapiv1.GatewayConditionAddressesAssigned), metav1.ConditionTrue, gwapiv1.GatewayReasonAddressesAssigned, "")))
}

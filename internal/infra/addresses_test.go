package infra

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

func TestAddressOutcome(t *testing.T) {
	lb := &v1alpha1.CaddyProxyConfigSpec{}
	clusterIP := &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeClusterIP)}}
	external := &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: ptr.To(corev1.ServiceTypeNodePort),
		StaticAddresses: &v1alpha1.StaticAddressesSpec{Mode: v1alpha1.StaticAddressExternalIPs}}}
	service := func(clusterIPs, externalIPs, ingress []string) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIPs: clusterIPs, ExternalIPs: externalIPs}}
		for _, ip := range ingress {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	cases := map[string]struct {
		spec    *v1alpha1.CaddyProxyConfigSpec
		addrs   []gwapiv1.GatewaySpecAddress
		svc     *corev1.Service
		refusal string
		// want lists the status addresses as value/routability; unsatisfied the reasons and
		// message parts of the entries not served.
		want        []string
		unsatisfied []string
	}{
		"no request lists the load balancer's addresses": {
			spec: lb, svc: service([]string{"10.96.0.5"}, nil, []string{"203.0.113.1"}),
			want: []string{"203.0.113.1/"},
		},
		"no request and no load balancer lists the cluster IPs": {
			spec: lb, svc: service([]string{"10.96.0.5"}, nil, nil),
			want: []string{"10.96.0.5/Cluster"},
		},
		"the requested load balancer IP is assigned": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{Value: "203.0.113.1"}}, svc: service([]string{"10.96.0.5"}, nil, []string{"203.0.113.1"}),
			want: []string{"203.0.113.1/"},
		},
		"the load balancer assigned another address": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{Value: "203.0.113.1"}}, svc: service([]string{"10.96.0.5"}, nil, []string{"203.0.113.9"}),
			unsatisfied: []string{"AddressNotUsable: address 203.0.113.1: the load balancer assigned 203.0.113.9 instead"},
		},
		"the load balancer has assigned nothing yet": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{Value: "203.0.113.1"}}, svc: service([]string{"10.96.0.5"}, nil, nil),
			unsatisfied: []string{"AddressNotAssigned: address 203.0.113.1: the load balancer has not assigned"},
		},
		"a load balancer that gives hostnames only": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{}},
			svc: &corev1.Service{Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
				Ingress: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}}}},
			unsatisfied: []string{`AddressNotUsable: an address of routability "": the load balancer gives the Service a hostname (lb.example.com)`},
		},
		"a second load balancer IP cannot be carried": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{Value: "203.0.113.1"}, {Value: "203.0.113.2"}},
			svc:         service([]string{"10.96.0.5"}, nil, []string{"203.0.113.1"}),
			want:        []string{"203.0.113.1/"},
			unsatisfied: []string{"AddressNotUsable: address 203.0.113.2: spec.loadBalancerIP carries one address"},
		},
		"a cluster entry next to a load balancer entry": {
			spec: lb, addrs: []gwapiv1.GatewaySpecAddress{{Routability: "Cluster"}, {}},
			svc:  service([]string{"10.96.0.5"}, nil, []string{"203.0.113.1"}),
			want: []string{"10.96.0.5/Cluster", "203.0.113.1/"},
		},
		"the sentinel is reported back": {
			spec: clusterIP, addrs: []gwapiv1.GatewaySpecAddress{{Routability: RoutabilitySentinel}}, svc: service([]string{"10.96.0.5"}, nil, nil),
			want: []string{"10.96.0.5/testing.x-k8s.io/sentinel"},
		},
		"an unsupported routability is not assigned": {
			spec: clusterIP, addrs: []gwapiv1.GatewaySpecAddress{{Routability: "example.com/wan"}}, svc: service([]string{"10.96.0.5"}, nil, nil),
			unsatisfied: []string{`AddressNotAssigned: an address of routability "example.com/wan": routability "example.com/wan" is not supported`},
		},
		"a refused cluster IP keeps the previous one listed": {
			spec: clusterIP, addrs: []gwapiv1.GatewaySpecAddress{{Value: "10.96.0.1"}}, svc: service([]string{"10.96.0.5"}, nil, nil),
			refusal:     "provided IP is already allocated",
			want:        []string{"10.96.0.5/Cluster"},
			unsatisfied: []string{"AddressNotUsable: address 10.96.0.1: the API server refused it, and the Service keeps serving on its previous addresses: provided IP is already allocated"},
		},
		"a refused cluster IP without a Service": {
			spec: clusterIP, addrs: []gwapiv1.GatewaySpecAddress{{Value: "10.96.0.1"}, {Value: "10.96.0.77"}},
			refusal: "provided IP is already allocated",
			unsatisfied: []string{"AddressNotUsable: address 10.96.0.1: the API server refused the Service",
				"AddressNotUsable: address 10.96.0.77: a Service has one cluster IP per IP family, and 10.96.0.1 is requested already"},
		},
		"an external IP is served from the Service's spec": {
			spec: external, addrs: []gwapiv1.GatewaySpecAddress{{Value: "198.51.100.7"}, {}},
			svc:         service([]string{"10.96.0.5"}, []string{"198.51.100.7"}, nil),
			want:        []string{"198.51.100.7/"},
			unsatisfied: []string{"AddressNotAssigned: an address of routability \"\": an external IP cannot be assigned automatically"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			gw := &gwapiv1.Gateway{Spec: gwapiv1.GatewaySpec{Addresses: c.addrs}}
			plan := PlanAddresses(gw, c.spec)
			out := plan.Outcome(c.svc, c.refusal)
			var got []string
			for _, a := range out.Addresses {
				got = append(got, fmt.Sprintf("%s/%s", a.Value, *a.Routability))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("addresses %v, want %v", got, c.want)
			}
			if len(out.Unsatisfied) != len(c.unsatisfied) {
				t.Fatalf("unsatisfied %+v, want %v", out.Unsatisfied, c.unsatisfied)
			}
			for i, u := range out.Unsatisfied {
				if s := string(u.Reason) + ": " + u.Message; !strings.HasPrefix(s, c.unsatisfied[i]) {
					t.Errorf("unsatisfied[%d] is %q, want it to start with %q", i, s, c.unsatisfied[i])
				}
			}
		})
	}
}

func TestPlanAddressesUnsupportedTypes(t *testing.T) {
	gw := &gwapiv1.Gateway{Spec: gwapiv1.GatewaySpec{Addresses: []gwapiv1.GatewaySpecAddress{
		{Type: ptr.To(gwapiv1.HostnameAddressType), Value: "gw.example.com"},
		{Type: ptr.To(gwapiv1.AddressType("test/fake-invalid-type")), Value: "x"},
		{Value: "10.96.0.77"},
	}}}
	plan := PlanAddresses(gw, nil)
	if len(plan.Unsupported) != 2 || !strings.Contains(plan.Unsupported[0], `spec.addresses[0]: address type "Hostname"`) ||
		!strings.Contains(plan.Unsupported[1], `spec.addresses[1]: address type "test/fake-invalid-type"`) {
		t.Fatalf("unsupported: %q", plan.Unsupported)
	}
	if len(plan.Entries) != 1 || plan.LoadBalancerIP != "10.96.0.77" {
		t.Fatalf("entries %+v, load balancer IP %q", plan.Entries, plan.LoadBalancerIP)
	}
}

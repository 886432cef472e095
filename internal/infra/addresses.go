package infra

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// RoutabilitySentinel is the routability value Gateway API reserves for its conformance
// tests: it carries no guarantee, and an implementation that supports routability
// reports it back as requested.
const RoutabilitySentinel gwapiv1.GatewayAddressRoutabilityType = "testing.x-k8s.io/sentinel"

// AddressSlot says which part of the Service carries a requested Gateway address.
type AddressSlot string

const (
	// SlotNone: the entry reaches no part of the Service (see AddressEntry.Problem).
	SlotNone AddressSlot = ""
	// SlotCluster: a cluster IP of the Service (spec.clusterIPs).
	SlotCluster AddressSlot = "ClusterIP"
	// SlotLoadBalancer: an address the load balancer assigns (status.loadBalancer.ingress).
	SlotLoadBalancer AddressSlot = "LoadBalancer"
	// SlotExternal: an external IP of the Service (spec.externalIPs).
	SlotExternal AddressSlot = "ExternalIP"
)

// AddressEntry is one entry of a Gateway's spec.addresses and where it goes.
type AddressEntry struct {
	// Value is the requested address; empty asks for any address of the slot.
	Value string
	// Routability is the requested routability.
	Routability gwapiv1.GatewayAddressRoutabilityType
	// Slot is the part of the Service that carries the entry.
	Slot AddressSlot
	// Problem says why the entry cannot be satisfied whatever the Service does (empty when
	// it can), and Reason is the Programmed reason it gives.
	Problem string
	Reason  gwapiv1.GatewayConditionReason
}

// AddressPlan is how a Gateway's spec.addresses become the Service's address request.
type AddressPlan struct {
	// ServiceType is the Service's type: ClusterIP when every requested address asks for
	// routability Cluster, else the configured type (default LoadBalancer).
	ServiceType corev1.ServiceType
	// Unsupported describes each entry of an address type the operator does not support;
	// any makes the Gateway Accepted=False with reason UnsupportedAddress.
	Unsupported []string
	// Entries are the supported entries of spec.addresses, in order.
	Entries []AddressEntry
	// ClusterIPs, LoadBalancerIP, ExternalIPs and AnnotationIPs are the requested values
	// by slot; Annotation names the Service annotation that carries AnnotationIPs.
	ClusterIPs     []string
	LoadBalancerIP string
	ExternalIPs    []string
	Annotation     string
	AnnotationIPs  []string
}

// Requests reports whether the plan asks the Service for specific addresses.
func (p *AddressPlan) Requests() bool {
	return len(p.ClusterIPs)+len(p.ExternalIPs)+len(p.AnnotationIPs) > 0 || p.LoadBalancerIP != ""
}

// PlanAddresses decides how the addresses a Gateway requests reach its Service, given the
// merged CaddyProxyConfig (nil: all defaults). IPAddress is the only address type
// supported: a Service cannot be asked for a hostname (a load balancer's DNS name is the
// cloud's choice) nor for a named address. Routability Cluster is a cluster IP; the empty
// routability follows the Service's type; the conformance sentinel is accepted and
// reported back; any other routability cannot be satisfied.
func PlanAddresses(gw *gwapiv1.Gateway, spec *v1alpha1.CaddyProxyConfigSpec) AddressPlan {
	s := v1alpha1.ServiceSpec{}
	if spec != nil && spec.Service != nil {
		s = *spec.Service
	}
	p := AddressPlan{ServiceType: corev1.ServiceTypeLoadBalancer}
	if s.Type != nil {
		p.ServiceType = *s.Type
	}
	clusterOnly := len(gw.Spec.Addresses) > 0
	for i, a := range gw.Spec.Addresses {
		if a.Type != nil && *a.Type != gwapiv1.IPAddressType {
			p.Unsupported = append(p.Unsupported, fmt.Sprintf(
				"spec.addresses[%d]: address type %q is not supported (only IPAddress: a Service cannot be asked for a hostname or a named address)",
				i, *a.Type))
			continue
		}
		if a.Routability != gwapiv1.GatewayAddressRoutabilityCluster {
			clusterOnly = false
		}
		p.Entries = append(p.Entries, AddressEntry{Value: a.Value, Routability: a.Routability})
	}
	if clusterOnly {
		p.ServiceType = corev1.ServiceTypeClusterIP
	}
	families := map[bool]string{}
	for i := range p.Entries {
		p.place(&p.Entries[i], s.StaticAddresses, families)
	}
	return p
}

// place chooses the slot of one entry and records its value in the request.
func (p *AddressPlan) place(e *AddressEntry, mode *v1alpha1.StaticAddressesSpec, families map[bool]string) {
	switch e.Routability {
	case gwapiv1.GatewayAddressRoutabilityDefault, gwapiv1.GatewayAddressRoutabilityCluster, RoutabilitySentinel:
	default:
		e.Reason, e.Problem = gwapiv1.GatewayReasonAddressNotAssigned, fmt.Sprintf(
			"routability %q is not supported (supported: Cluster and the empty default)", e.Routability)
		return
	}
	e.Slot = p.slot(e.Routability, mode)
	if e.Value == "" {
		if e.Slot == SlotExternal {
			e.Slot, e.Reason, e.Problem = SlotNone, gwapiv1.GatewayReasonAddressNotAssigned,
				"an external IP cannot be assigned automatically: give the address a value"
		}
		return
	}
	ip, err := netip.ParseAddr(e.Value)
	if err != nil {
		e.Slot, e.Reason, e.Problem = SlotNone, gwapiv1.GatewayReasonAddressNotUsable, "it is not an IP address"
		return
	}
	switch e.Slot {
	case SlotCluster:
		v4 := ip.Unmap().Is4()
		if other, ok := families[v4]; ok {
			e.Reason, e.Problem = gwapiv1.GatewayReasonAddressNotUsable, fmt.Sprintf(
				"a Service has one cluster IP per IP family, and %s is requested already", other)
			return
		}
		families[v4] = e.Value
		p.ClusterIPs = append(p.ClusterIPs, e.Value)
	case SlotExternal:
		p.ExternalIPs = append(p.ExternalIPs, e.Value)
	case SlotLoadBalancer:
		if mode != nil && mode.Mode == v1alpha1.StaticAddressAnnotation {
			p.Annotation = *mode.Annotation
			p.AnnotationIPs = append(p.AnnotationIPs, e.Value)
			return
		}
		if p.LoadBalancerIP != "" {
			e.Reason, e.Problem = gwapiv1.GatewayReasonAddressNotUsable, fmt.Sprintf(
				"spec.loadBalancerIP carries one address, and %s is requested already (service.staticAddresses mode Annotation can carry more)",
				p.LoadBalancerIP)
			return
		}
		p.LoadBalancerIP = e.Value
	}
}

// slot is where an entry of a supported routability goes.
func (p *AddressPlan) slot(r gwapiv1.GatewayAddressRoutabilityType, mode *v1alpha1.StaticAddressesSpec) AddressSlot {
	if r == gwapiv1.GatewayAddressRoutabilityCluster || p.ServiceType == corev1.ServiceTypeClusterIP {
		return SlotCluster
	}
	if mode != nil && mode.Mode == v1alpha1.StaticAddressExternalIPs {
		return SlotExternal
	}
	if p.ServiceType == corev1.ServiceTypeLoadBalancer {
		return SlotLoadBalancer
	}
	return SlotCluster
}

// applyTo writes the plan's request into a rendered Service.
func (p *AddressPlan) applyTo(svc *corev1.Service) {
	if len(p.ClusterIPs) > 0 {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = p.ClusterIPs[0], p.ClusterIPs
		if len(p.ClusterIPs) == 2 && svc.Spec.IPFamilyPolicy == nil {
			policy := corev1.IPFamilyPolicyRequireDualStack
			svc.Spec.IPFamilyPolicy = &policy
		}
	}
	svc.Spec.LoadBalancerIP = p.LoadBalancerIP
	svc.Spec.ExternalIPs = p.ExternalIPs
	if p.Annotation != "" {
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[p.Annotation] = strings.Join(p.AnnotationIPs, ",")
	}
}

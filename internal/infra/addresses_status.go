package infra

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Unsatisfied is a requested address the Service does not serve, and why.
type Unsatisfied struct {
	// Reason is AddressNotUsable (the address cannot be had) or AddressNotAssigned (no
	// address is assigned yet, or the request cannot be assigned one).
	Reason gwapiv1.GatewayConditionReason
	// Message names the address and the cause.
	Message string
}

// AddressOutcome is what a Gateway's Service really serves, measured against its request.
type AddressOutcome struct {
	// Requested says whether the Gateway has spec.addresses.
	Requested bool
	// Addresses are the Gateway's status.addresses: only addresses the Service serves,
	// each with its routability (Cluster for a cluster IP). After a refused request they
	// include the previous addresses the Service keeps serving on.
	Addresses []gwapiv1.GatewayStatusAddress
	// Served counts the entries of spec.addresses the Service serves.
	Served int
	// Unsatisfied lists the entries of spec.addresses the Service does not serve.
	Unsatisfied []Unsatisfied
}

// Outcome matches the live Service (nil when there is none) against the plan. refusal is
// the API server's answer when it refused the Service's address request (empty when it
// did not): the Service, if any, kept its previous addresses.
func (p *AddressPlan) Outcome(svc *corev1.Service, refusal string) AddressOutcome {
	out := AddressOutcome{Requested: len(p.Entries) > 0}
	pools := servicePools(svc)
	if !out.Requested {
		out.Addresses = defaultAddresses(pools)
		return out
	}
	claimed := map[string]bool{}
	for _, valued := range []bool{true, false} {
		for _, e := range p.Entries {
			if (e.Value != "") != valued {
				continue
			}
			if e.Problem != "" {
				out.Unsatisfied = append(out.Unsatisfied, Unsatisfied{e.Reason, describe(e) + ": " + e.Problem})
				continue
			}
			a, ok := pools.take(e, claimed)
			if !ok {
				out.Unsatisfied = append(out.Unsatisfied, unsatisfied(e, svc, pools, refusal))
				continue
			}
			out.Addresses = append(out.Addresses, a)
			out.Served++
		}
	}
	if refusal != "" {
		out.Addresses = append(out.Addresses, p.retained(pools, claimed)...)
	}
	return out
}

// retained are the addresses a refused request left serving: the Service's previous
// cluster IPs or external IPs where the request asked for others.
func (p *AddressPlan) retained(pools pools, claimed map[string]bool) []gwapiv1.GatewayStatusAddress {
	var out []gwapiv1.GatewayStatusAddress
	add := func(vs []string, r gwapiv1.GatewayAddressRoutabilityType) {
		for _, v := range vs {
			if !claimed[v] {
				claimed[v] = true
				out = append(out, statusAddress(gwapiv1.IPAddressType, v, r))
			}
		}
	}
	if len(p.ClusterIPs) > 0 {
		add(pools.cluster, gwapiv1.GatewayAddressRoutabilityCluster)
	}
	if len(p.ExternalIPs) > 0 {
		add(pools.external, gwapiv1.GatewayAddressRoutabilityDefault)
	}
	return out
}

// pools are the addresses a Service serves, by slot.
type pools struct {
	cluster, external []string
	ingressIPs        []string
	ingressHostnames  []string
}

func servicePools(svc *corev1.Service) pools {
	var p pools
	if svc == nil {
		return p
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, v := range ips {
		if v != corev1.ClusterIPNone {
			p.cluster = append(p.cluster, v)
		}
	}
	p.external = svc.Spec.ExternalIPs
	for _, in := range svc.Status.LoadBalancer.Ingress {
		switch {
		case in.IP != "":
			p.ingressIPs = append(p.ingressIPs, in.IP)
		case in.Hostname != "":
			p.ingressHostnames = append(p.ingressHostnames, in.Hostname)
		}
	}
	return p
}

func (p pools) of(s AddressSlot) []string {
	switch s {
	case SlotCluster:
		return p.cluster
	case SlotExternal:
		return p.external
	case SlotLoadBalancer:
		return p.ingressIPs
	}
	return nil
}

// take finds the address that satisfies e, unclaimed so far, and claims it.
func (p pools) take(e AddressEntry, claimed map[string]bool) (gwapiv1.GatewayStatusAddress, bool) {
	for _, v := range p.of(e.Slot) {
		if claimed[v] || (e.Value != "" && v != e.Value) {
			continue
		}
		claimed[v] = true
		return statusAddress(gwapiv1.IPAddressType, v, reported(e)), true
	}
	return gwapiv1.GatewayStatusAddress{}, false
}

// reported is the routability a status address of entry e carries: the sentinel when it
// was asked for, Cluster for a cluster IP, else the empty default.
func reported(e AddressEntry) gwapiv1.GatewayAddressRoutabilityType {
	switch {
	case e.Routability == RoutabilitySentinel:
		return RoutabilitySentinel
	case e.Slot == SlotCluster:
		return gwapiv1.GatewayAddressRoutabilityCluster
	}
	return gwapiv1.GatewayAddressRoutabilityDefault
}

func statusAddress(t gwapiv1.AddressType, v string, r gwapiv1.GatewayAddressRoutabilityType) gwapiv1.GatewayStatusAddress {
	return gwapiv1.GatewayStatusAddress{Type: &t, Value: v, Routability: &r}
}

// defaultAddresses are the addresses of a Gateway that requests none: the load balancer's
// when it has assigned some, else the cluster IPs.
func defaultAddresses(p pools) []gwapiv1.GatewayStatusAddress {
	var out []gwapiv1.GatewayStatusAddress
	for _, v := range p.ingressIPs {
		out = append(out, statusAddress(gwapiv1.IPAddressType, v, gwapiv1.GatewayAddressRoutabilityDefault))
	}
	for _, v := range p.ingressHostnames {
		out = append(out, statusAddress(gwapiv1.HostnameAddressType, v, gwapiv1.GatewayAddressRoutabilityDefault))
	}
	if len(out) > 0 {
		return out
	}
	for _, v := range p.cluster {
		out = append(out, statusAddress(gwapiv1.IPAddressType, v, gwapiv1.GatewayAddressRoutabilityCluster))
	}
	return out
}

// unsatisfied explains why entry e, free of problems of its own, is not served.
func unsatisfied(e AddressEntry, svc *corev1.Service, p pools, refusal string) Unsatisfied {
	what := describe(e)
	notUsable := func(msg string) Unsatisfied {
		return Unsatisfied{gwapiv1.GatewayReasonAddressNotUsable, what + ": " + msg}
	}
	notAssigned := func(msg string) Unsatisfied {
		return Unsatisfied{gwapiv1.GatewayReasonAddressNotAssigned, what + ": " + msg}
	}
	have := p.of(e.Slot)
	switch {
	case refusal != "" && e.Value != "":
		if svc == nil {
			return notUsable("the API server refused the Service: " + refusal)
		}
		return notUsable("the API server refused it, and the Service keeps serving on its previous addresses: " + refusal)
	case svc == nil:
		return notAssigned("the Service does not exist yet")
	case e.Slot == SlotLoadBalancer && len(have) == 0 && len(p.ingressHostnames) > 0:
		return notUsable(fmt.Sprintf("the load balancer gives the Service a hostname (%s), not an IP address",
			strings.Join(p.ingressHostnames, ", ")))
	case e.Slot == SlotLoadBalancer && len(have) == 0:
		return notAssigned("the load balancer has not assigned an address to the Service yet")
	case e.Slot == SlotLoadBalancer && e.Value != "" && !slices.Contains(have, e.Value):
		return notUsable(fmt.Sprintf("the load balancer assigned %s instead", strings.Join(have, ", ")))
	case e.Value == "":
		return notAssigned(fmt.Sprintf("every %s of the Service is taken by another entry", e.Slot))
	}
	return notUsable(fmt.Sprintf("the Service's %s addresses are %s", e.Slot, orNone(have)))
}

func orNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}

// describe names an entry in messages.
func describe(e AddressEntry) string {
	if e.Value == "" {
		return "an address of routability " + fmt.Sprintf("%q", e.Routability)
	}
	return "address " + e.Value
}

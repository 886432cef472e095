package infra

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

func (r *renderer) service() client.Object {
	s := v1alpha1.ServiceSpec{}
	if r.spec.Service != nil {
		s = *r.spec.Service
	}
	nodePorts := map[int32]int32{}
	for _, np := range s.NodePorts {
		nodePorts[np.Port] = np.NodePort
	}
	// The address plan decides the type: a Gateway asking only for cluster-routable
	// addresses gets a ClusterIP Service whatever the configuration says.
	typ := r.addresses.ServiceType
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: r.meta(r.names.Workload, s.Labels, s.Annotations),
		Spec: corev1.ServiceSpec{
			Type:                          typ,
			Selector:                      SelectorLabels(r.gw.Name),
			LoadBalancerClass:             s.LoadBalancerClass,
			LoadBalancerSourceRanges:      s.LoadBalancerSourceRanges,
			AllocateLoadBalancerNodePorts: s.AllocateLoadBalancerNodePorts,
			IPFamilies:                    s.IPFamilies,
			IPFamilyPolicy:                s.IPFamilyPolicy,
		},
	}
	forced := typ == corev1.ServiceTypeClusterIP && (s.Type == nil || *s.Type != corev1.ServiceTypeClusterIP)
	if forced {
		// The configuration's load balancer fields would be refused on a ClusterIP Service.
		svc.Spec.LoadBalancerClass, svc.Spec.LoadBalancerSourceRanges, svc.Spec.AllocateLoadBalancerNodePorts = nil, nil, nil
	}
	r.addresses.applyTo(svc)
	if s.ExternalTrafficPolicy != nil && !forced {
		svc.Spec.ExternalTrafficPolicy = *s.ExternalTrafficPolicy
	}
	for _, p := range r.ports {
		sp := corev1.ServicePort{Name: p.name(), Protocol: p.protocol, Port: p.port, TargetPort: intstr.FromInt32(p.port)}
		if typ != corev1.ServiceTypeClusterIP {
			sp.NodePort = nodePorts[p.port]
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc
}

// networkPolicy admits the admin port only from the operator's pods (and adminFrom), the
// listener ports from listenersFrom (default: anyone) and the metrics port from
// metricsFrom (default: anyone). Probes need no rule: traffic from the pod's own node is
// always allowed. NetworkPolicies do not apply to hostNetwork pods. Egress is not
// restricted: the pods reach their backends and, with automatic certificates, the API
// server (their certificate storage) and the ACME CA. The CA's challenge requests come in
// on the listener ports, so a listenersFrom that leaves the CA out fails its HTTP-01 and
// TLS-ALPN-01 validations.
func (r *renderer) networkPolicy() client.Object {
	np := v1alpha1.NetworkPolicySpec{}
	if r.spec.NetworkPolicy != nil {
		np = *r.spec.NetworkPolicy
	}
	if np.Enabled != nil && !*np.Enabled {
		return nil
	}
	tcp := ptr.To(corev1.ProtocolTCP)
	operator := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			"kubernetes.io/metadata.name": r.in.Operator.Namespace}},
		PodSelector: &metav1.LabelSelector{MatchLabels: maps.Clone(r.in.Operator.Labels)},
	}
	rules := []networkingv1.NetworkPolicyIngressRule{{
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromInt32(r.adminPort))}},
		From:  append([]networkingv1.NetworkPolicyPeer{operator}, np.AdminFrom...),
	}}
	if len(r.ports) > 0 {
		rule := networkingv1.NetworkPolicyIngressRule{From: np.ListenersFrom}
		for _, p := range r.ports {
			rule.Ports = append(rule.Ports, networkingv1.NetworkPolicyPort{
				Protocol: ptr.To(p.protocol), Port: ptr.To(intstr.FromInt32(p.port))})
		}
		rules = append(rules, rule)
	}
	if r.metrics != nil {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromInt32(*r.metrics))}},
			From:  np.MetricsFrom,
		})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: r.meta(r.names.Workload, nil, nil),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: SelectorLabels(r.gw.Name)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

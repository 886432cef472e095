package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// ServiceSpec shapes the Service that exposes the Gateway's listeners.
//
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancerClass) || !has(self.type) || self.type == 'LoadBalancer'",message="service.loadBalancerClass is only supported with service.type LoadBalancer"
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancerSourceRanges) || !has(self.type) || self.type == 'LoadBalancer'",message="service.loadBalancerSourceRanges is only supported with service.type LoadBalancer"
// +kubebuilder:validation:XValidation:rule="!has(self.nodePorts) || !has(self.type) || self.type != 'ClusterIP'",message="service.nodePorts is not supported with service.type ClusterIP"
// +kubebuilder:validation:XValidation:rule="!has(self.externalTrafficPolicy) || !has(self.type) || self.type != 'ClusterIP'",message="service.externalTrafficPolicy is not supported with service.type ClusterIP"
type ServiceSpec struct {
	// Type of the Service. Default: LoadBalancer.
	// +optional
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	Type *corev1.ServiceType `json:"type,omitempty"`

	// Annotations added to the Service, e.g. for a cloud load balancer. Annotations others
	// add to the Service (a cloud controller, a user) are left alone.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels added to the Service.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// LoadBalancerClass of the Service (LoadBalancer only). Immutable in Kubernetes: a change
	// recreates the Service.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	LoadBalancerClass *string `json:"loadBalancerClass,omitempty"`

	// LoadBalancerSourceRanges restricts the client CIDRs (LoadBalancer only).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(r, isCIDR(r))",message="service.loadBalancerSourceRanges entries must be CIDRs such as 10.0.0.0/8"
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`

	// AllocateLoadBalancerNodePorts as in the Service API. Default: the cluster's default.
	// +optional
	AllocateLoadBalancerNodePorts *bool `json:"allocateLoadBalancerNodePorts,omitempty"`

	// ExternalTrafficPolicy of the Service. Local keeps the client address. Default: Cluster.
	// +optional
	// +kubebuilder:validation:Enum=Cluster;Local
	ExternalTrafficPolicy *corev1.ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`

	// IPFamilies of the Service.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=IPv4;IPv6
	IPFamilies []corev1.IPFamily `json:"ipFamilies,omitempty"`

	// IPFamilyPolicy of the Service.
	// +optional
	// +kubebuilder:validation:Enum=SingleStack;PreferDualStack;RequireDualStack
	IPFamilyPolicy *corev1.IPFamilyPolicy `json:"ipFamilyPolicy,omitempty"`

	// NodePorts pins the node port of listener ports (NodePort and LoadBalancer only).
	// +optional
	// +listType=map
	// +listMapKey=port
	// +kubebuilder:validation:MaxItems=64
	NodePorts []NodePort `json:"nodePorts,omitempty"`

	// StaticAddresses says how the IPAddress values a Gateway requests in spec.addresses
	// reach a LoadBalancer or NodePort Service. Default: a LoadBalancer Service asks for them
	// in spec.loadBalancerIP (one address); a NodePort Service takes them as its cluster
	// IPs. A ClusterIP Service (or a Gateway whose addresses all ask for routability
	// Cluster) always takes them as its cluster IPs.
	// +optional
	StaticAddresses *StaticAddressesSpec `json:"staticAddresses,omitempty"`
}

// StaticAddressMode names where a Service carries a Gateway's requested addresses.
// +kubebuilder:validation:Enum=LoadBalancerIP;Annotation;ExternalIPs
type StaticAddressMode string

const (
	// StaticAddressLoadBalancerIP asks the load balancer for the address in the Service's
	// spec.loadBalancerIP: one address, honoured by MetalLB and most cloud controllers.
	StaticAddressLoadBalancerIP StaticAddressMode = "LoadBalancerIP"
	// StaticAddressAnnotation writes the addresses, comma-separated, into the annotation
	// the field annotation names (e.g. metallb.io/loadBalancerIPs).
	StaticAddressAnnotation StaticAddressMode = "Annotation"
	// StaticAddressExternalIPs lists the addresses in the Service's spec.externalIPs: every
	// node accepts traffic for them. Clusters often forbid external IPs (the
	// DenyServiceExternalIPs admission plugin); a refusal is reported on the Gateway.
	StaticAddressExternalIPs StaticAddressMode = "ExternalIPs"
)

// StaticAddressesSpec says how requested Gateway addresses reach the Service.
// +kubebuilder:validation:XValidation:rule="self.mode == 'Annotation' ? has(self.annotation) : !has(self.annotation)",message="service.staticAddresses.annotation is required with mode Annotation and allowed only with it"
type StaticAddressesSpec struct {
	// Mode says where the addresses go.
	// +required
	Mode StaticAddressMode `json:"mode"`

	// Annotation is the Service annotation that receives the addresses, comma-separated
	// (mode Annotation only), e.g. metallb.io/loadBalancerIPs.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	Annotation *string `json:"annotation,omitempty"`
}

// NodePort pins the node port of one listener port.
type NodePort struct {
	// Port is the listener port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// NodePort is the node port to use; it must lie in the cluster's node port range.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	NodePort int32 `json:"nodePort"`
}

// NetworkPolicySpec shapes the NetworkPolicy rendered for each Gateway.
type NetworkPolicySpec struct {
	// Enabled renders the NetworkPolicy. Default: true. Without it, the admin port is
	// protected by mTLS alone.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// AdminFrom adds peers allowed to reach the admin port, beyond the operator's pods.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	AdminFrom []networkingv1.NetworkPolicyPeer `json:"adminFrom,omitempty"`

	// MetricsFrom lists the peers allowed to scrape Caddy's metrics port. Default: any.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MetricsFrom []networkingv1.NetworkPolicyPeer `json:"metricsFrom,omitempty"`

	// ListenersFrom restricts which peers may reach the listener ports. Default: any.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	ListenersFrom []networkingv1.NetworkPolicyPeer `json:"listenersFrom,omitempty"`
}

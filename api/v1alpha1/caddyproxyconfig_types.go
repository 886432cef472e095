package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CaddyProxyConfigSpec describes how the operator provisions and configures the Caddy
// fleet of a Gateway.
//
// A CaddyProxyConfig can be referenced from a GatewayClass (spec.parametersRef) and from a
// Gateway (spec.infrastructure.parametersRef, same namespace as the Gateway). When both are
// set, the two are merged field by field: every field the Gateway-level object sets replaces
// the class-level value, maps (labels, annotations, nodeSelector) are merged key by key with
// the Gateway-level value winning, and patches are concatenated (class-level first). Fields
// left unset in both fall back to the operator's defaults, documented on each field. The
// schema therefore has no server-side defaults on mergeable fields: an unset field must stay
// distinguishable from an explicitly set one.
type CaddyProxyConfigSpec struct {
	// Workload shapes the Caddy Deployment or DaemonSet and its pods.
	// +optional
	Workload *WorkloadSpec `json:"workload,omitempty"`

	// Service shapes the Service that exposes the Gateway's listeners.
	// +optional
	Service *ServiceSpec `json:"service,omitempty"`

	// NetworkPolicy shapes the NetworkPolicy that locks Caddy's admin port to the operator.
	// +optional
	NetworkPolicy *NetworkPolicySpec `json:"networkPolicy,omitempty"`

	// ControlPlane configures the mTLS admin channel between the operator and Caddy.
	// +optional
	ControlPlane *ControlPlaneSpec `json:"controlPlane,omitempty"`

	// Caddy holds runtime settings rendered into every configuration pushed to Caddy.
	// +optional
	Caddy *CaddyRuntimeSpec `json:"caddy,omitempty"`

	// ACME says how automatic certificates are obtained for the HTTPS listeners that ask
	// for them (tls.options caddygateway.io/automatic-certificates: "true"): CA directory,
	// account, trusted roots and challenge types. Unset: every default of ACMESpec.
	// +optional
	ACME *ACMESpec `json:"acme,omitempty"`

	// GatewayOverrides lets the class owner forbid Gateway-level overrides of groups of
	// fields. Only the class-level CaddyProxyConfig (the one a GatewayClass references) may
	// set it; a Gateway whose spec.infrastructure.parametersRef refers to a CaddyProxyConfig
	// that sets it is refused. Default: every field may be overridden.
	// +optional
	GatewayOverrides *GatewayOverridesSpec `json:"gatewayOverrides,omitempty"`

	// Patches are applied, in order, to the rendered objects after every typed field.
	// They are the escape hatch for anything the typed fields do not cover.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Patches []Patch `json:"patches,omitempty"`
}

// OverrideGroup names a group of CaddyProxyConfig fields that the class owner can lock.
// +kubebuilder:validation:Enum=Images;Patches;PodSecurity
type OverrideGroup string

const (
	// OverrideImages is what the pods run: spec.workload.caddy.image,
	// spec.workload.caddy.imagePullPolicy, spec.workload.adminProxy.image and
	// spec.workload.pod.imagePullSecrets.
	OverrideImages OverrideGroup = "Images"
	// OverridePatches is spec.patches, which can change any field of the rendered objects.
	OverridePatches OverrideGroup = "Patches"
	// OverridePodSecurity is what the pods may do on their node: spec.workload.pod.securityContext,
	// spec.workload.caddy.securityContext and spec.workload.pod.hostNetwork. (The ServiceAccount
	// is always the operator's own, without a token: no field names another.)
	OverridePodSecurity OverrideGroup = "PodSecurity"
)

// GatewayOverridesSpec is what a Gateway-level CaddyProxyConfig may not set.
type GatewayOverridesSpec struct {
	// Forbidden lists the groups of fields a Gateway-level CaddyProxyConfig may not set. A
	// Gateway whose parametersRef sets a field of a forbidden group is not accepted
	// (Accepted=False, reason InvalidParameters, naming the field); the fleet it had keeps
	// running as it was. Images: workload.caddy.image, workload.caddy.imagePullPolicy,
	// workload.adminProxy.image, workload.pod.imagePullSecrets. Patches: patches.
	// PodSecurity: workload.pod.securityContext, workload.caddy.securityContext,
	// workload.pod.hostNetwork.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	Forbidden []OverrideGroup `json:"forbidden,omitempty"`
}

// CaddyProxyConfigStatus is the observed state of a CaddyProxyConfig.
type CaddyProxyConfigStatus struct {
	// ObservedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the state of the object. Known condition types are
	// "Accepted" (the object is valid and usable) and "ResolvedRefs".
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Ancestors lists the GatewayClasses and Gateways of this operator that reference this
	// object, each with the conditions that apply to that use.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Ancestors []AncestorStatus `json:"ancestors,omitempty"`
}

// AncestorStatus is the status of a CaddyProxyConfig with respect to one object using it.
type AncestorStatus struct {
	// AncestorRef is the GatewayClass or Gateway that references this object.
	AncestorRef AncestorReference `json:"ancestorRef"`

	// Conditions describe how this object applies to the ancestor.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AncestorReference identifies a GatewayClass or Gateway.
type AncestorReference struct {
	// Group is the API group of the ancestor.
	// +kubebuilder:validation:Enum=gateway.networking.k8s.io
	Group string `json:"group"`

	// Kind is the kind of the ancestor.
	// +kubebuilder:validation:Enum=GatewayClass;Gateway
	Kind string `json:"kind"`

	// Namespace of the ancestor; empty for a GatewayClass.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the ancestor.
	Name string `json:"name"`
}

// CaddyProxyConfig holds the parameters of the Caddy fleet the operator provisions for
// a Gateway. Reference it from a GatewayClass spec.parametersRef (group
// gateway.caddygateway.io, kind CaddyProxyConfig, with a namespace) or from a Gateway
// spec.infrastructure.parametersRef to override the class-level values for one Gateway.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cpc,categories=gateway-api
// +kubebuilder:printcolumn:name="Workload",type=string,JSONPath=`.spec.workload.kind`
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service.type`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CaddyProxyConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired shape of the Caddy fleet.
	// +optional
	Spec CaddyProxyConfigSpec `json:"spec,omitempty"`

	// Status is the observed state, written by the operator.
	// +optional
	Status CaddyProxyConfigStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CaddyProxyConfigList is a list of CaddyProxyConfig.
type CaddyProxyConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CaddyProxyConfig `json:"items"`
}

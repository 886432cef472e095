package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ControlPlaneSpec configures the mTLS admin channel between the operator and Caddy.
type ControlPlaneSpec struct {
	// AdminPort is the port the admin-proxy sidecar serves mTLS on. It must differ from every
	// listener port. Default: 2021.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	AdminPort *int32 `json:"adminPort,omitempty"`

	// TLS configures the admin channel's certificates.
	// +optional
	TLS *AdminTLSSpec `json:"tls,omitempty"`

	// Push tunes how configurations are pushed to the Caddy pods.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// AdminTLSSpec configures the certificates of the admin channel.
//
// +kubebuilder:validation:XValidation:rule="!has(self.duration) || !has(self.renewBefore) || duration(self.renewBefore) < duration(self.duration)",message="controlPlane.tls.renewBefore must be shorter than controlPlane.tls.duration"
type AdminTLSSpec struct {
	// IssuerRef names a cert-manager ClusterIssuer, or an Issuer in the operator's
	// namespace, that signs the admin certificates instead of the default per-Gateway CA.
	// The admin Certificates live in the operator's namespace, never in the Gateway's, so
	// an Issuer in the Gateway's namespace cannot be used. The issuer must fill ca.crt.
	// Each Gateway's client certificate names that Gateway, so one issuer shared by many
	// Gateways opens each Gateway's admin API only to the operator's certificate for it.
	// +optional
	IssuerRef *IssuerReference `json:"issuerRef,omitempty"`

	// Duration of the server and client certificates. Default: 2160h (90 days).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Duration *metav1.Duration `json:"duration,omitempty"`

	// RenewBefore is how long before expiry certificates are renewed. Default: 720h (30 days).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// IssuerReference names a cert-manager issuer.
type IssuerReference struct {
	// Group of the issuer. Default: cert-manager.io.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group,omitempty"`

	// Kind of the issuer.
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	Kind string `json:"kind"`

	// Name of the issuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PushSpec tunes configuration pushes.
//
// +kubebuilder:validation:XValidation:rule="!has(self.initialBackoff) || !has(self.maxBackoff) || duration(self.initialBackoff) <= duration(self.maxBackoff)",message="controlPlane.push.initialBackoff must not exceed controlPlane.push.maxBackoff"
type PushSpec struct {
	// Timeout of one push to one pod. Default: 10s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// InitialBackoff before retrying a failed push. Default: 1s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	InitialBackoff *metav1.Duration `json:"initialBackoff,omitempty"`

	// MaxBackoff caps the retry backoff. Default: 1m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	MaxBackoff *metav1.Duration `json:"maxBackoff,omitempty"`

	// MaxConcurrentPods bounds the pods pushed to at once per Gateway. Default: 16.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=256
	MaxConcurrentPods *int32 `json:"maxConcurrentPods,omitempty"`

	// MinInterval is the least time between the end of one push to the Gateway's pods and
	// the start of the next. A change made after a quiet spell is pushed at once; changes
	// made within the interval go out together in the next push, so a stream of route
	// changes costs Caddy one reload per interval instead of one each, at the price of up
	// to this much added latency. Default: none (changes made while a push runs still go
	// out together in the next one).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	MinInterval *metav1.Duration `json:"minInterval,omitempty"`
}

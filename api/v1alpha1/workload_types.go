package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// WorkloadKind is the kind of workload that runs Caddy.
// +kubebuilder:validation:Enum=Deployment;DaemonSet
type WorkloadKind string

const (
	// WorkloadDeployment runs Caddy as a Deployment (the default).
	WorkloadDeployment WorkloadKind = "Deployment"
	// WorkloadDaemonSet runs one Caddy pod per selected node.
	WorkloadDaemonSet WorkloadKind = "DaemonSet"
)

// WorkloadSpec shapes the Caddy workload.
//
// +kubebuilder:validation:XValidation:rule="!has(self.autoscaling) || !has(self.kind) || self.kind == 'Deployment'",message="workload.autoscaling is only supported with workload.kind Deployment"
// +kubebuilder:validation:XValidation:rule="!has(self.strategy) || !has(self.kind) || self.kind == 'Deployment'",message="workload.strategy is only supported with workload.kind Deployment; use workload.updateStrategy for a DaemonSet"
// +kubebuilder:validation:XValidation:rule="!has(self.updateStrategy) || !has(self.kind) || self.kind == 'DaemonSet'",message="workload.updateStrategy is only supported with workload.kind DaemonSet; use workload.strategy for a Deployment"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || !has(self.kind) || self.kind == 'Deployment'",message="workload.replicas is only supported with workload.kind Deployment"
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.autoscaling))",message="workload.replicas and workload.autoscaling are mutually exclusive"
type WorkloadSpec struct {
	// Kind selects a Deployment or a DaemonSet. Default: Deployment.
	// +optional
	Kind *WorkloadKind `json:"kind,omitempty"`

	// Replicas of the Deployment. Default: 1. Not allowed together with autoscaling.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`

	// Strategy of the Deployment. Default: RollingUpdate with maxUnavailable 0, maxSurge 1.
	// +optional
	Strategy *appsv1.DeploymentStrategy `json:"strategy,omitempty"`

	// UpdateStrategy of the DaemonSet. Default: RollingUpdate with maxUnavailable 1.
	// +optional
	UpdateStrategy *appsv1.DaemonSetUpdateStrategy `json:"updateStrategy,omitempty"`

	// Autoscaling creates a HorizontalPodAutoscaler for the Deployment. Deployment only.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// PodDisruptionBudget creates a PodDisruptionBudget for the Caddy pods.
	// +optional
	PodDisruptionBudget *PodDisruptionBudgetSpec `json:"podDisruptionBudget,omitempty"`

	// Pod shapes the Caddy pods.
	// +optional
	Pod *PodSpec `json:"pod,omitempty"`

	// Caddy shapes the caddy container.
	// +optional
	Caddy *CaddyContainerSpec `json:"caddy,omitempty"`

	// AdminProxy shapes the admin-proxy sidecar that terminates the mTLS admin channel.
	// +optional
	AdminProxy *AdminProxyContainerSpec `json:"adminProxy,omitempty"`
}

// AutoscalingSpec configures a HorizontalPodAutoscaler.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"
type AutoscalingSpec struct {
	// MinReplicas is the lower bound. Default: 1.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the upper bound.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas"`

	// Metrics the autoscaler acts on. Default: 80% average CPU utilisation.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`

	// Behavior configures scaling up and down.
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// PodDisruptionBudgetSpec configures a PodDisruptionBudget. Exactly one of minAvailable
// and maxUnavailable must be set.
//
// +kubebuilder:validation:XValidation:rule="has(self.minAvailable) != has(self.maxUnavailable)",message="podDisruptionBudget needs exactly one of minAvailable and maxUnavailable"
type PodDisruptionBudgetSpec struct {
	// MinAvailable pods, as a number or a percentage.
	// +optional
	// +kubebuilder:validation:XIntOrString
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// MaxUnavailable pods, as a number or a percentage.
	// +optional
	// +kubebuilder:validation:XIntOrString
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// UnhealthyPodEvictionPolicy as in policy/v1 PodDisruptionBudget.
	// +optional
	// +kubebuilder:validation:Enum=IfHealthyBudget;AlwaysAllow
	UnhealthyPodEvictionPolicy *policyv1.UnhealthyPodEvictionPolicyType `json:"unhealthyPodEvictionPolicy,omitempty"`
}

// PodSpec shapes the Caddy pods.
type PodSpec struct {
	// Labels added to the pods. Selector labels of the operator always win.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations added to the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`

	// NodeSelector constrains the nodes the pods run on.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Affinity of the pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// Tolerations of the pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// TopologySpreadConstraints of the pods.
	// +optional
	// +listType=atomic
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// PriorityClassName of the pods.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName *string `json:"priorityClassName,omitempty"`

	// SecurityContext of the pods. Default: runAsNonRoot, seccomp RuntimeDefault, and the
	// net.ipv4.ip_unprivileged_port_start=0 sysctl so that Caddy binds listener ports as non-root.
	// +optional
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`

	// ImagePullSecrets for the caddy and admin-proxy images.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// TerminationGracePeriodSeconds of the pods. Default: 60.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// HostNetwork would run the pods in the node's network namespace. The operator refuses
	// true (Accepted=False, InvalidParameters, keeping the last good fleet): NetworkPolicies do
	// not apply to hostNetwork pods, so Caddy's admin port would be open to anything that
	// reaches the node, not only to the operator. Default: false.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`
}

// CaddyContainerSpec shapes the caddy container.
type CaddyContainerSpec struct {
	// Image of Caddy. It must contain the caddy-l4 module and the operator's own Caddy
	// modules. Default: the operator's caddy-gateway-caddy image of the same release.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image *string `json:"image,omitempty"`

	// ImagePullPolicy of the caddy and admin-proxy containers. Default: IfNotPresent.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Resources of the caddy container. GOMEMLIMIT is derived from limits.memory.
	// Default: requests cpu 50m and memory 64Mi, no limits (a pod without requests is
	// BestEffort: the first starved of CPU and the first evicted on a busy node).
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Env adds environment variables to the caddy container.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Env []corev1.EnvVar `json:"env,omitempty"`

	// SecurityContext of the caddy container. Default: non-root, read-only root filesystem,
	// no privilege escalation, all capabilities dropped.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`

	// Probes override the default probes of the caddy container. The default readiness
	// probe targets a server that exists only in configurations the operator pushed, so a
	// pod joins the Service only once it is configured; override it with care.
	// +optional
	Probes *ProbeOverrides `json:"probes,omitempty"`
}

// ProbeOverrides replaces the default probes of a container.
type ProbeOverrides struct {
	// Readiness replaces the readiness probe.
	// +optional
	Readiness *corev1.Probe `json:"readiness,omitempty"`
	// Liveness replaces the liveness probe.
	// +optional
	Liveness *corev1.Probe `json:"liveness,omitempty"`
	// Startup replaces the startup probe.
	// +optional
	Startup *corev1.Probe `json:"startup,omitempty"`
}

// AdminProxyContainerSpec shapes the admin-proxy sidecar.
type AdminProxyContainerSpec struct {
	// Image of the admin-proxy. Default: the operator's own image.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image *string `json:"image,omitempty"`

	// Resources of the admin-proxy container. Default: requests cpu 10m and memory 32Mi,
	// no limits.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

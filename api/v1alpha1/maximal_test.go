package v1alpha1_test

import (
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func rawJSON(t *testing.T, v any) apiextensionsv1.JSON {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return apiextensionsv1.JSON{Raw: b}
}

func resources(cpu, mem string) *corev1.ResourceRequirements {
	return &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)},
	}
}

// maximalSpec sets nearly every field, with values that satisfy every rule together.
func maximalSpec(t *testing.T) v1alpha1.CaddyProxyConfigSpec {
	peers := []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}},
	}, {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}
	probe := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds:    5,
		FailureThreshold: 3,
	}
	return v1alpha1.CaddyProxyConfigSpec{
		Workload: &v1alpha1.WorkloadSpec{
			Kind: ptr.To(v1alpha1.WorkloadDeployment),
			Strategy: &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("25%")),
			}},
			Autoscaling: &v1alpha1.AutoscalingSpec{
				MinReplicas: ptr.To[int32](2), MaxReplicas: 10,
				Metrics: []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
						Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70),
					}},
				}},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: ptr.To[int32](300),
				}},
			},
			PodDisruptionBudget: &v1alpha1.PodDisruptionBudgetSpec{
				MaxUnavailable:             ptr.To(intstr.FromString("50%")),
				UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
			},
			Pod: &v1alpha1.PodSpec{
				Labels:       map[string]string{"team": "edge"},
				Annotations:  map[string]string{"prometheus.io/scrape": "true"},
				NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
				Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
						Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"},
					}},
				}},
				Tolerations: []corev1.Toleration{{Key: "edge", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
					MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
				}},
				PriorityClassName:             ptr.To("system-cluster-critical"),
				SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), FSGroup: ptr.To[int64](1000)},
				ImagePullSecrets:              []corev1.LocalObjectReference{{Name: "registry"}},
				TerminationGracePeriodSeconds: ptr.To[int64](120),
				HostNetwork:                   ptr.To(false),
			},
			Caddy: &v1alpha1.CaddyContainerSpec{
				Image:           ptr.To("registry.example.com/caddy-gateway-caddy:1.0.0"),
				ImagePullPolicy: ptr.To(corev1.PullAlways),
				Resources:       resources("100m", "256Mi"),
				Env:             []corev1.EnvVar{{Name: "GODEBUG", Value: "http2debug=0"}},
				SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)},
				Probes:          &v1alpha1.ProbeOverrides{Readiness: probe, Liveness: probe, Startup: probe},
			},
			AdminProxy: &v1alpha1.AdminProxyContainerSpec{
				Image:     ptr.To("registry.example.com/caddy-gateway-operator:1.0.0"),
				Resources: resources("10m", "32Mi"),
			},
		},
		Service: &v1alpha1.ServiceSpec{
			Type:                          ptr.To(corev1.ServiceTypeLoadBalancer),
			Annotations:                   map[string]string{"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
			Labels:                        map[string]string{"exposed": "true"},
			LoadBalancerClass:             ptr.To("example.com/lb"),
			LoadBalancerSourceRanges:      []string{"10.0.0.0/8", "2001:db8::/32"},
			AllocateLoadBalancerNodePorts: ptr.To(true),
			ExternalTrafficPolicy:         ptr.To(corev1.ServiceExternalTrafficPolicyLocal),
			IPFamilies:                    []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			IPFamilyPolicy:                ptr.To(corev1.IPFamilyPolicyPreferDualStack),
			NodePorts:                     []v1alpha1.NodePort{{Port: 80, NodePort: 30080}, {Port: 443, NodePort: 30443}},
		},
		NetworkPolicy: &v1alpha1.NetworkPolicySpec{
			Enabled: ptr.To(true), AdminFrom: peers, MetricsFrom: peers, ListenersFrom: peers,
		},
		ControlPlane: &v1alpha1.ControlPlaneSpec{
			AdminPort: ptr.To[int32](2022),
			TLS: &v1alpha1.AdminTLSSpec{
				IssuerRef:   &v1alpha1.IssuerReference{Group: "cert-manager.io", Kind: "ClusterIssuer", Name: "internal-ca"},
				Duration:    dur(2160 * time.Hour),
				RenewBefore: dur(720 * time.Hour),
			},
			Push: &v1alpha1.PushSpec{
				Timeout: dur(10 * time.Second), InitialBackoff: dur(500 * time.Millisecond), MaxBackoff: dur(time.Minute),
				MaxConcurrentPods: ptr.To[int32](256),
			},
		},
		Caddy: &v1alpha1.CaddyRuntimeSpec{
			GracePeriod:      dur(15 * time.Second),
			ShutdownDelay:    dur(5 * time.Second),
			StreamCloseDelay: dur(90 * time.Minute),
			Protocols:        []v1alpha1.HTTPProtocol{"h1", "h2", "h3", "h2c"},
			Timeouts: &v1alpha1.ServerTimeouts{
				ReadHeader: dur(10 * time.Second), Read: dur(time.Minute), Write: dur(0), Idle: dur(5 * time.Minute),
			},
			TrustedProxies: []string{"10.0.0.0/8", "fd00::/8"},
			ProxyProtocol:  &v1alpha1.ProxyProtocolSpec{Allow: []string{"192.168.0.0/16"}, Timeout: dur(5 * time.Second)},
			TLS:            &v1alpha1.TLSSettings{MinVersion: ptr.To("1.2"), CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}},
			LogLevel:       ptr.To(v1alpha1.LogLevel("WARN")),
			AccessLogs:     &v1alpha1.AccessLogSpec{Enabled: ptr.To(true), Format: ptr.To(v1alpha1.AccessLogFormat("console"))},
			Metrics:        &v1alpha1.MetricsSpec{Enabled: ptr.To(true), Port: ptr.To[int32](9182)},
		},
		ACME: &v1alpha1.ACMESpec{
			Directory: ptr.To("https://ca.internal.example:9000/acme/acme/directory"),
			Email:     ptr.To("ops@example.com"),
			ExternalAccountBinding: &v1alpha1.ACMEExternalAccountBinding{KeyID: "kid-1",
				MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "acme-eab", Key: "mac-key"}},
			TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "ConfigMap", Name: "internal-ca", Key: ptr.To("root.pem")},
			Challenges:   []v1alpha1.ACMEChallenge{v1alpha1.ACMEChallengeTLSALPN01, v1alpha1.ACMEChallengeHTTP01},
		},
		Patches: []v1alpha1.Patch{
			{Target: "Deployment", Type: v1alpha1.PatchStrategicMerge, Value: rawJSON(t, map[string]any{
				"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"dnsPolicy": "None"}}},
			})},
			{Target: "Service", Type: v1alpha1.PatchMerge, Value: rawJSON(t, map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}})},
			{Target: "HorizontalPodAutoscaler", Type: v1alpha1.PatchJSONPatch, Value: rawJSON(t, []map[string]any{
				{"op": "replace", "path": "/spec/maxReplicas", "value": 12},
				{"op": "test", "path": "/spec/minReplicas", "value": 2},
			})},
			{Target: "PodDisruptionBudget", Type: v1alpha1.PatchJSONPatch, Value: rawJSON(t, []map[string]any{})},
		},
	}
}

// TestMaximalObjectIsAccepted creates an object with nearly every field set and checks that
// the API server keeps every value (nothing pruned) and that the operator accepts it.
func TestMaximalObjectIsAccepted(t *testing.T) {
	t.Parallel()
	want := maximalSpec(t)
	obj := &v1alpha1.CaddyProxyConfig{Spec: *want.DeepCopy()}
	obj.Namespace, obj.Name = testNS, objectName(t)
	ctx := ctxFor(t)
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("the API server rejected the maximal object: %v", err)
	}
	var got v1alpha1.CaddyProxyConfig
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want) {
		gotJSON, _ := json.Marshal(got.Spec)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("the stored spec differs from the one sent:\nsent %s\ngot  %s", wantJSON, gotJSON)
	}
	if err := params.Validate(&got.Spec); err != nil {
		t.Errorf("the operator rejects the maximal object: %v", err)
	}
}

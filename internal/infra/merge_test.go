package infra

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

func patch(target v1alpha1.PatchTarget, v string) v1alpha1.Patch {
	return v1alpha1.Patch{Target: target, Type: v1alpha1.PatchMerge, Value: apiextensionsv1.JSON{Raw: []byte(v)}}
}

func TestMerge(t *testing.T) {
	deploy, ds := v1alpha1.WorkloadDeployment, v1alpha1.WorkloadDaemonSet
	lb, np := corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort
	tests := map[string]struct {
		class, gateway, want *v1alpha1.CaddyProxyConfigSpec
	}{
		"both nil": {},
		"class only": {
			class: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &lb}},
			want:  &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &lb}},
		},
		"gateway only": {
			gateway: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &np}},
			want:    &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &np}},
		},
		"scalar: gateway wins, unset keeps class": {
			class: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				Type: &lb, LoadBalancerClass: ptr.To("metallb")}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &np}},
			want: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				Type: &np, LoadBalancerClass: ptr.To("metallb")}},
		},
		"nested structs merge field by field": {
			class: &v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{
				AdminPort: ptr.To[int32](3000),
				TLS:       &v1alpha1.AdminTLSSpec{Duration: &metav1.Duration{Duration: 1000}}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{
				TLS: &v1alpha1.AdminTLSSpec{RenewBefore: &metav1.Duration{Duration: 10}}}},
			want: &v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{
				AdminPort: ptr.To[int32](3000),
				TLS: &v1alpha1.AdminTLSSpec{Duration: &metav1.Duration{Duration: 1000},
					RenewBefore: &metav1.Duration{Duration: 10}}}},
		},
		"gatewayOverrides stay the class level's": {
			class: &v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{
				Forbidden: []v1alpha1.OverrideGroup{v1alpha1.OverrideImages}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{}},
			want: &v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{
				Forbidden: []v1alpha1.OverrideGroup{v1alpha1.OverrideImages}}},
		},
		"gatewayOverrides of a Gateway level alone count for nothing": {
			gateway: &v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{}, Service: &v1alpha1.ServiceSpec{Type: &np}},
			want:    &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{Type: &np}},
		},
		"acme: fields merge one by one, references are replaced whole": {
			class: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{
				Directory: ptr.To("https://class.example/directory"), Email: ptr.To("class@example.com"),
				ExternalAccountBinding: &v1alpha1.ACMEExternalAccountBinding{KeyID: "class-kid",
					MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "class-eab", Key: "class-key"}},
				TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "class-ca", Key: ptr.To("root.pem")},
				Challenges:   []v1alpha1.ACMEChallenge{v1alpha1.ACMEChallengeHTTP01, v1alpha1.ACMEChallengeTLSALPN01}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{
				Directory: ptr.To("https://gw.example/directory"),
				ExternalAccountBinding: &v1alpha1.ACMEExternalAccountBinding{KeyID: "gw-kid",
					MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "gw-eab", Key: "gw-key"}},
				TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "ConfigMap", Name: "gw-ca"},
				Challenges:   []v1alpha1.ACMEChallenge{v1alpha1.ACMEChallengeTLSALPN01}}},
			want: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{
				Directory: ptr.To("https://gw.example/directory"), Email: ptr.To("class@example.com"),
				ExternalAccountBinding: &v1alpha1.ACMEExternalAccountBinding{KeyID: "gw-kid",
					MACKeySecretRef: v1alpha1.SecretKeyReference{Name: "gw-eab", Key: "gw-key"}},
				TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "ConfigMap", Name: "gw-ca"},
				Challenges:   []v1alpha1.ACMEChallenge{v1alpha1.ACMEChallengeTLSALPN01}}},
		},
		"acme of the class level alone": {
			class: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{Email: ptr.To("class@example.com"),
				TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "class-ca"}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{Directory: ptr.To("https://gw.example/directory")}},
			want: &v1alpha1.CaddyProxyConfigSpec{ACME: &v1alpha1.ACMESpec{Directory: ptr.To("https://gw.example/directory"),
				Email: ptr.To("class@example.com"), TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "Secret", Name: "class-ca"}}},
		},
		"maps merge key by key": {
			class: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				Annotations: map[string]string{"a": "class", "b": "class"}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				Annotations: map[string]string{"b": "gw", "c": "gw"}}},
			want: &v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				Annotations: map[string]string{"a": "class", "b": "gw", "c": "gw"}}},
		},
		"lists replace": {
			class: &v1alpha1.CaddyProxyConfigSpec{Caddy: &v1alpha1.CaddyRuntimeSpec{
				Protocols: []v1alpha1.HTTPProtocol{"h1", "h2"}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Caddy: &v1alpha1.CaddyRuntimeSpec{
				Protocols: []v1alpha1.HTTPProtocol{"h3"}}},
			want: &v1alpha1.CaddyProxyConfigSpec{Caddy: &v1alpha1.CaddyRuntimeSpec{
				Protocols: []v1alpha1.HTTPProtocol{"h3"}}},
		},
		"kubernetes types replace whole": {
			class: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{
				Resources: &corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{
				Resources: &corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}}}},
			want: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{
				Resources: &corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}}}},
		},
		"patches concatenate class first": {
			class:   &v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{patch("Service", `{"a":1}`)}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{patch("Deployment", `{"b":2}`)}},
			want: &v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{
				patch("Service", `{"a":1}`), patch("Deployment", `{"b":2}`)}},
		},
		"gateway autoscaling drops class replicas": {
			class: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](3)}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Autoscaling: &v1alpha1.AutoscalingSpec{MaxReplicas: 5}}},
			want: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Autoscaling: &v1alpha1.AutoscalingSpec{MaxReplicas: 5}}},
		},
		"gateway replicas drop class autoscaling": {
			class: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Autoscaling: &v1alpha1.AutoscalingSpec{MaxReplicas: 5}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](2)}},
			want:    &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Replicas: ptr.To[int32](2)}},
		},
		"gateway DaemonSet drops class Deployment fields": {
			class: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Kind: &deploy, Replicas: ptr.To[int32](3), Pod: &v1alpha1.PodSpec{HostNetwork: ptr.To(true)}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Kind: &ds}},
			want: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
				Kind: &ds, Pod: &v1alpha1.PodSpec{HostNetwork: ptr.To(true)}}},
		},
		"gateway maxUnavailable drops class minAvailable": {
			class: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{PodDisruptionBudget: &v1alpha1.PodDisruptionBudgetSpec{
				MinAvailable: ptr.To(intstr.FromInt32(1))}}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{PodDisruptionBudget: &v1alpha1.PodDisruptionBudgetSpec{
				MaxUnavailable: ptr.To(intstr.FromString("25%"))}}},
			want: &v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{PodDisruptionBudget: &v1alpha1.PodDisruptionBudgetSpec{
				MaxUnavailable: ptr.To(intstr.FromString("25%"))}}},
		},
		"explicit false wins over class true": {
			class:   &v1alpha1.CaddyProxyConfigSpec{NetworkPolicy: &v1alpha1.NetworkPolicySpec{Enabled: ptr.To(true)}},
			gateway: &v1alpha1.CaddyProxyConfigSpec{NetworkPolicy: &v1alpha1.NetworkPolicySpec{Enabled: ptr.To(false)}},
			want:    &v1alpha1.CaddyProxyConfigSpec{NetworkPolicy: &v1alpha1.NetworkPolicySpec{Enabled: ptr.To(false)}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			classBefore, gwBefore := tc.class.DeepCopy(), tc.gateway.DeepCopy()
			got := Merge(tc.class, tc.gateway)
			if want, got := js(t, tc.want), js(t, got); want != got {
				t.Fatalf("Merge():\n got %s\nwant %s", got, want)
			}
			if js(t, classBefore) != js(t, tc.class) || js(t, gwBefore) != js(t, tc.gateway) {
				t.Fatal("Merge modified its arguments")
			}
			if got != nil && tc.class != nil && got.Workload != nil && tc.class.Workload != nil && got.Workload == tc.class.Workload {
				t.Fatal("result aliases the class-level spec")
			}
		})
	}
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

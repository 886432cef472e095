package params_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
)

func locking(groups ...v1alpha1.OverrideGroup) *v1alpha1.CaddyProxyConfigSpec {
	return &v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{Forbidden: groups}}
}

func withWorkload(wl v1alpha1.WorkloadSpec) *v1alpha1.CaddyProxyConfigSpec {
	return &v1alpha1.CaddyProxyConfigSpec{Workload: &wl}
}

const forbids = ": Forbidden: the GatewayClass's CaddyProxyConfig forbids Gateway-level overrides of "

func TestCheckOverrides(t *testing.T) {
	image := "example.com/caddy:1"
	always := corev1.PullAlways
	replicas := int32(3)
	tests := map[string]struct {
		class, gateway *v1alpha1.CaddyProxyConfigSpec
		// want is the whole error text; empty means allowed.
		want string
	}{
		"no Gateway level":                    {class: locking(v1alpha1.OverrideImages)},
		"no class level":                      {gateway: withWorkload(v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{Image: &image}})},
		"no lock":                             {class: &v1alpha1.CaddyProxyConfigSpec{}, gateway: withWorkload(v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{Image: &image}})},
		"locked group not set by the Gateway": {class: locking(v1alpha1.OverrideImages, v1alpha1.OverridePatches, v1alpha1.OverridePodSecurity), gateway: withWorkload(v1alpha1.WorkloadSpec{Replicas: &replicas})},
		"caddy image": {
			class:   locking(v1alpha1.OverrideImages),
			gateway: withWorkload(v1alpha1.WorkloadSpec{Caddy: &v1alpha1.CaddyContainerSpec{Image: &image}}),
			want:    "spec.workload.caddy.image" + forbids + "Images (spec.gatewayOverrides.forbidden)",
		},
		"every image field, once each": {
			class: locking(v1alpha1.OverrideImages, v1alpha1.OverrideImages),
			gateway: withWorkload(v1alpha1.WorkloadSpec{
				Caddy:      &v1alpha1.CaddyContainerSpec{Image: &image, ImagePullPolicy: &always},
				AdminProxy: &v1alpha1.AdminProxyContainerSpec{Image: &image},
				Pod:        &v1alpha1.PodSpec{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "s"}}},
			}),
			want: "[spec.workload.caddy.image" + forbids + "Images (spec.gatewayOverrides.forbidden), " +
				"spec.workload.caddy.imagePullPolicy" + forbids + "Images (spec.gatewayOverrides.forbidden), " +
				"spec.workload.adminProxy.image" + forbids + "Images (spec.gatewayOverrides.forbidden), " +
				"spec.workload.pod.imagePullSecrets" + forbids + "Images (spec.gatewayOverrides.forbidden)]",
		},
		"patches, even an empty list": {
			class:   locking(v1alpha1.OverridePatches),
			gateway: &v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{}},
			want:    "spec.patches" + forbids + "Patches (spec.gatewayOverrides.forbidden)",
		},
		"pod security": {
			class: locking(v1alpha1.OverridePodSecurity),
			gateway: withWorkload(v1alpha1.WorkloadSpec{
				Pod:   &v1alpha1.PodSpec{SecurityContext: &corev1.PodSecurityContext{}, HostNetwork: boolPtr(false)},
				Caddy: &v1alpha1.CaddyContainerSpec{SecurityContext: &corev1.SecurityContext{}, Image: &image},
			}),
			want: "[spec.workload.pod.securityContext" + forbids + "PodSecurity (spec.gatewayOverrides.forbidden), " +
				"spec.workload.caddy.securityContext" + forbids + "PodSecurity (spec.gatewayOverrides.forbidden), " +
				"spec.workload.pod.hostNetwork" + forbids + "PodSecurity (spec.gatewayOverrides.forbidden)]",
		},
		"the Gateway level sets gatewayOverrides": {
			gateway: locking(),
			want:    "spec.gatewayOverrides: Forbidden: only the GatewayClass's CaddyProxyConfig may set it",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := params.CheckOverrides(tc.class, tc.gateway)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

// Every group the API offers locks at least one field: a new enum value without fields
// would be accepted and lock nothing.
func TestEveryOverrideGroupLocksFields(t *testing.T) {
	gateway := withWorkload(v1alpha1.WorkloadSpec{
		Caddy: &v1alpha1.CaddyContainerSpec{Image: new(string), SecurityContext: &corev1.SecurityContext{}},
	})
	gateway.Patches = []v1alpha1.Patch{}
	for _, g := range []v1alpha1.OverrideGroup{v1alpha1.OverrideImages, v1alpha1.OverridePatches, v1alpha1.OverridePodSecurity} {
		err := params.CheckOverrides(locking(g), gateway)
		if err == nil || !strings.Contains(err.Error(), string(g)) {
			t.Errorf("group %s locks nothing: %v", g, err)
		}
	}
}

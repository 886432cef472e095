package params

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// lockedField is one field a class-level lock covers.
type lockedField struct {
	path string
	set  func(*v1alpha1.CaddyProxyConfigSpec) bool
}

// lockedFields are the fields of each OverrideGroup, as the API documents them.
var lockedFields = map[v1alpha1.OverrideGroup][]lockedField{
	v1alpha1.OverrideImages: {
		{"spec.workload.caddy.image", func(s *v1alpha1.CaddyProxyConfigSpec) bool { return caddy(s) != nil && caddy(s).Image != nil }},
		{"spec.workload.caddy.imagePullPolicy", func(s *v1alpha1.CaddyProxyConfigSpec) bool {
			return caddy(s) != nil && caddy(s).ImagePullPolicy != nil
		}},
		{"spec.workload.adminProxy.image", func(s *v1alpha1.CaddyProxyConfigSpec) bool {
			return s.Workload != nil && s.Workload.AdminProxy != nil && s.Workload.AdminProxy.Image != nil
		}},
		{"spec.workload.pod.imagePullSecrets", func(s *v1alpha1.CaddyProxyConfigSpec) bool { return pod(s) != nil && pod(s).ImagePullSecrets != nil }},
	},
	v1alpha1.OverridePatches: {
		{"spec.patches", func(s *v1alpha1.CaddyProxyConfigSpec) bool { return s.Patches != nil }},
	},
	v1alpha1.OverridePodSecurity: {
		{"spec.workload.pod.securityContext", func(s *v1alpha1.CaddyProxyConfigSpec) bool { return pod(s) != nil && pod(s).SecurityContext != nil }},
		{"spec.workload.caddy.securityContext", func(s *v1alpha1.CaddyProxyConfigSpec) bool {
			return caddy(s) != nil && caddy(s).SecurityContext != nil
		}},
		{"spec.workload.pod.hostNetwork", func(s *v1alpha1.CaddyProxyConfigSpec) bool { return pod(s) != nil && pod(s).HostNetwork != nil }},
	},
}

func caddy(s *v1alpha1.CaddyProxyConfigSpec) *v1alpha1.CaddyContainerSpec {
	if s.Workload == nil {
		return nil
	}
	return s.Workload.Caddy
}

func pod(s *v1alpha1.CaddyProxyConfigSpec) *v1alpha1.PodSpec {
	if s.Workload == nil {
		return nil
	}
	return s.Workload.Pod
}

// CheckOverrides checks a Gateway-level CaddyProxyConfig spec against the class-level one's
// spec.gatewayOverrides: every field of a forbidden group that gateway sets is an error
// naming it, and so is gateway setting spec.gatewayOverrides itself (only the class owner
// may). Either argument may be nil.
func CheckOverrides(class, gateway *v1alpha1.CaddyProxyConfigSpec) error {
	if gateway == nil {
		return nil
	}
	var errs field.ErrorList
	if gateway.GatewayOverrides != nil {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "gatewayOverrides"),
			"only the GatewayClass's CaddyProxyConfig may set it"))
	}
	if class != nil && class.GatewayOverrides != nil {
		groups := slices.Clone(class.GatewayOverrides.Forbidden)
		slices.Sort(groups)
		for _, g := range slices.Compact(groups) {
			for _, f := range lockedFields[g] {
				if f.set(gateway) {
					errs = append(errs, field.Forbidden(field.NewPath(f.path),
						fmt.Sprintf("the GatewayClass's CaddyProxyConfig forbids Gateway-level overrides of %s (spec.gatewayOverrides.forbidden)", g)))
				}
			}
		}
	}
	return errs.ToAggregate()
}

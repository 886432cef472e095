package params

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
)

// Defaults the operator applies to fields a CaddyProxyConfig leaves unset.
const (
	DefaultAdminPort   int32 = 2021
	DefaultMetricsPort int32 = emit.DefaultMetricsPort
)

// ReadinessPort is the port of the readiness server every pushed config holds; no other
// port of the pod may take it.
const ReadinessPort int32 = 9181

var jsonPatchOps = map[string]bool{"add": true, "remove": true, "replace": true, "move": true, "copy": true, "test": true}

// Validate checks the rules of a CaddyProxyConfig spec that the schema cannot express.
// The API server already enforced the schema and its CEL rules.
func Validate(spec *v1alpha1.CaddyProxyConfigSpec) error {
	errs := validatePorts(spec)
	errs = append(errs, validatePatches(spec.Patches, field.NewPath("spec", "patches"))...)
	errs = append(errs, validateTLS(spec.Caddy)...)
	errs = append(errs, validateHostNetwork(spec.Workload)...)
	errs = append(errs, validateStaticAddresses(spec.Service)...)
	return errs.ToAggregate()
}

// validateStaticAddresses checks that the annotation meant to carry a Gateway's requested
// addresses is a valid annotation key.
func validateStaticAddresses(s *v1alpha1.ServiceSpec) field.ErrorList {
	if s == nil || s.StaticAddresses == nil || s.StaticAddresses.Annotation == nil {
		return nil
	}
	path := field.NewPath("spec", "service", "staticAddresses", "annotation")
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(*s.StaticAddresses.Annotation) {
		errs = append(errs, field.Invalid(path, *s.StaticAddresses.Annotation, msg))
	}
	return errs
}

// validateHostNetwork refuses hostNetwork: NetworkPolicies do not apply to hostNetwork
// pods, so the NetworkPolicy that admits only the operator to the admin port would not
// hold, and the admin port would be open to anything that reaches the node.
func validateHostNetwork(wl *v1alpha1.WorkloadSpec) field.ErrorList {
	if wl == nil || wl.Pod == nil || wl.Pod.HostNetwork == nil || !*wl.Pod.HostNetwork {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "workload", "pod", "hostNetwork"),
		"NetworkPolicies do not apply to hostNetwork pods, so the admin port would be reachable by anything that reaches the node")}
}

func validatePorts(spec *v1alpha1.CaddyProxyConfigSpec) field.ErrorList {
	admin, metrics := DefaultAdminPort, DefaultMetricsPort
	metricsOn := true
	if cp := spec.ControlPlane; cp != nil && cp.AdminPort != nil {
		admin = *cp.AdminPort
	}
	if c := spec.Caddy; c != nil && c.Metrics != nil {
		if c.Metrics.Port != nil {
			metrics = *c.Metrics.Port
		}
		if c.Metrics.Enabled != nil {
			metricsOn = *c.Metrics.Enabled
		}
	}
	path := field.NewPath("spec", "caddy", "metrics", "port")
	switch {
	case !metricsOn:
		return nil
	case admin == metrics:
		return field.ErrorList{field.Invalid(path, metrics, fmt.Sprintf("must differ from spec.controlPlane.adminPort (%d)", admin))}
	case metrics == ReadinessPort:
		return field.ErrorList{field.Invalid(path, metrics, fmt.Sprintf("must differ from the readiness port (%d)", ReadinessPort))}
	}
	return nil
}

func validatePatches(patches []v1alpha1.Patch, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range patches {
		vp := path.Index(i).Child("value")
		if p.Type != v1alpha1.PatchJSONPatch {
			// The API server cannot check the shape of the schemaless value (CEL does not
			// see it), so a list or a scalar given for a merge patch is caught here.
			typ := p.Type
			if typ == "" {
				typ = v1alpha1.PatchStrategicMerge
			}
			var obj map[string]any
			if err := json.Unmarshal(p.Value.Raw, &obj); err != nil || obj == nil {
				errs = append(errs, field.Invalid(vp, string(p.Value.Raw), fmt.Sprintf("must be an object for type %s", typ)))
			}
			continue
		}
		var ops []map[string]any
		if err := json.Unmarshal(p.Value.Raw, &ops); err != nil {
			errs = append(errs, field.Invalid(vp, string(p.Value.Raw), "must be a list of JSON patch operations"))
			continue
		}
		for j, op := range ops {
			name, _ := op["op"].(string)
			if !jsonPatchOps[name] {
				errs = append(errs, field.NotSupported(vp.Index(j).Child("op"), op["op"], []string{"add", "remove", "replace", "move", "copy", "test"}))
			}
			if p, _ := op["path"].(string); p == "" || p[0] != '/' {
				errs = append(errs, field.Invalid(vp.Index(j).Child("path"), op["path"], "must be a JSON pointer starting with /"))
			}
		}
	}
	return errs
}

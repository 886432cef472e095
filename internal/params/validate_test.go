package params_test

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
)

func port(p int32) *int32 { return &p }

func boolPtr(b bool) *bool    { return &b }
func strPtr(s string) *string { return &s }

func ports(admin, metrics *int32, metricsOn *bool) v1alpha1.CaddyProxyConfigSpec {
	var s v1alpha1.CaddyProxyConfigSpec
	if admin != nil {
		s.ControlPlane = &v1alpha1.ControlPlaneSpec{AdminPort: admin}
	}
	if metrics != nil || metricsOn != nil {
		s.Caddy = &v1alpha1.CaddyRuntimeSpec{Metrics: &v1alpha1.MetricsSpec{Port: metrics, Enabled: metricsOn}}
	}
	return s
}

func patch(typ v1alpha1.PatchType, value string) v1alpha1.Patch {
	return v1alpha1.Patch{Target: "Deployment", Type: typ, Value: apiextensionsv1.JSON{Raw: []byte(value)}}
}

func withPatches(s v1alpha1.CaddyProxyConfigSpec, p ...v1alpha1.Patch) v1alpha1.CaddyProxyConfigSpec {
	s.Patches = p
	return s
}

const supportedOps = `supported values: "add", "remove", "replace", "move", "copy", "test"`

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		spec v1alpha1.CaddyProxyConfigSpec
		// want is the whole error text; empty means valid.
		want string
	}{
		"empty spec":     {},
		"distinct ports": {spec: ports(port(2022), port(9182), nil)},
		"metrics port on the readiness port": {
			spec: ports(nil, port(9181), nil),
			want: "spec.caddy.metrics.port: Invalid value: 9181: must differ from the readiness port (9181)",
		},
		"readiness port with metrics disabled": {spec: ports(nil, port(9181), boolPtr(false))},
		"admin port on the default metrics port": {
			spec: ports(port(9180), nil, nil),
			want: "spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180)",
		},
		"metrics port on the default admin port": {
			spec: ports(nil, port(2021), nil),
			want: "spec.caddy.metrics.port: Invalid value: 2021: must differ from spec.controlPlane.adminPort (2021)",
		},
		"both ports set equal": {
			spec: ports(port(8443), port(8443), boolPtr(true)),
			want: "spec.caddy.metrics.port: Invalid value: 8443: must differ from spec.controlPlane.adminPort (8443)",
		},
		"equal ports with metrics disabled": {spec: ports(port(8443), port(8443), boolPtr(false))},
		"every JSON patch op": {spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[
			{"op":"add","path":"/a","value":1},{"op":"remove","path":"/b"},{"op":"replace","path":"/c","value":2},
			{"op":"move","from":"/d","path":"/e"},{"op":"copy","from":"/f","path":"/g"},{"op":"test","path":"/","value":{}}]`))},
		"empty JSON patch": {spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[]`))},
		"merge patches with objects": {spec: withPatches(v1alpha1.CaddyProxyConfigSpec{},
			patch(v1alpha1.PatchStrategicMerge, `{"spec":{"replicas":2}}`), patch(v1alpha1.PatchMerge, `{}`), patch("", `{"a":null}`))},
		"unknown JSON patch op": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"add","path":"/a","value":1},{"op":"delete","path":"/b"}]`)),
			want: `spec.patches[0].value[1].op: Unsupported value: "delete": ` + supportedOps,
		},
		"JSON patch op in upper case": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"ADD","path":"/a","value":1}]`)),
			want: `spec.patches[0].value[0].op: Unsupported value: "ADD": ` + supportedOps,
		},
		"JSON patch without op": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"path":"/a"}]`)),
			want: `spec.patches[0].value[0].op: Unsupported value: null: ` + supportedOps,
		},
		"JSON patch with a relative path": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"remove","path":"spec/replicas"}]`)),
			want: `spec.patches[0].value[0].path: Invalid value: "spec/replicas": must be a JSON pointer starting with /`,
		},
		"JSON patch without path": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"remove"}]`)),
			want: `spec.patches[0].value[0].path: Invalid value: null: must be a JSON pointer starting with /`,
		},
		"JSON patch with a numeric path": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"remove","path":1}]`)),
			want: `spec.patches[0].value[0].path: Invalid value: 1: must be a JSON pointer starting with /`,
		},
		"JSON patch with bad op and path": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `[{"op":"drop","path":""}]`)),
			want: `[spec.patches[0].value[0].op: Unsupported value: "drop": ` + supportedOps +
				`, spec.patches[0].value[0].path: Invalid value: "": must be a JSON pointer starting with /]`,
		},
		"JSON patch given an object": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `{"op":"add","path":"/a"}`)),
			want: `spec.patches[0].value: Invalid value: "{\"op\":\"add\",\"path\":\"/a\"}": must be a list of JSON patch operations`,
		},
		"JSON patch given a list of strings": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchJSONPatch, `["add"]`)),
			want: `spec.patches[0].value: Invalid value: "[\"add\"]": must be a list of JSON patch operations`,
		},
		"strategic merge patch given a list": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchStrategicMerge, `[{"op":"add","path":"/a"}]`)),
			want: `spec.patches[0].value: Invalid value: "[{\"op\":\"add\",\"path\":\"/a\"}]": must be an object for type StrategicMerge`,
		},
		"patch of unset type given a list": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch("", `[]`)),
			want: `spec.patches[0].value: Invalid value: "[]": must be an object for type StrategicMerge`,
		},
		"merge patch given a string": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchMerge, `"spec: {}"`)),
			want: `spec.patches[0].value: Invalid value: "\"spec: {}\"": must be an object for type Merge`,
		},
		"merge patch given null": {
			spec: withPatches(v1alpha1.CaddyProxyConfigSpec{}, patch(v1alpha1.PatchMerge, `null`)),
			want: `spec.patches[0].value: Invalid value: "null": must be an object for type Merge`,
		},
		"hostNetwork false": {spec: v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
			Pod: &v1alpha1.PodSpec{HostNetwork: boolPtr(false)}}}},
		"hostNetwork true": {
			spec: v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Pod: &v1alpha1.PodSpec{HostNetwork: boolPtr(true)}}},
			want: "spec.workload.pod.hostNetwork: Forbidden: NetworkPolicies do not apply to hostNetwork pods, " +
				"so the admin port would be reachable by anything that reaches the node",
		},
		"static addresses annotation": {spec: v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
			StaticAddresses: &v1alpha1.StaticAddressesSpec{Mode: v1alpha1.StaticAddressAnnotation, Annotation: strPtr("metallb.io/loadBalancerIPs")}}}},
		"static addresses annotation not a key": {
			spec: v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
				StaticAddresses: &v1alpha1.StaticAddressesSpec{Mode: v1alpha1.StaticAddressAnnotation, Annotation: strPtr("load balancer IPs")}}},
			want: `spec.service.staticAddresses.annotation: Invalid value: "load balancer IPs": name part must consist of alphanumeric characters, ` +
				`'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', ` +
				`regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		},
		"errors of ports and patches together, indexed": {
			spec: withPatches(ports(port(9180), nil, nil),
				patch(v1alpha1.PatchMerge, `{}`), patch(v1alpha1.PatchJSONPatch, `[{"op":"add","path":"/a"}]`),
				patch(v1alpha1.PatchJSONPatch, `[{"op":"add","path":"/a"},{"op":"add","path":"a"}]`)),
			want: `[spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180), ` +
				`spec.patches[2].value[1].path: Invalid value: "a": must be a JSON pointer starting with /]`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := params.Validate(&tc.spec)
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

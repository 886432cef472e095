package bundle

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const baseCSV = `
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: x.v0.0.0, annotations: {olm.skipRange: "<0.0.1"}}
spec:
  displayName: X
  version: 0.0.0
  customresourcedefinitions:
    owned:
    - {name: widgets.example.com, version: v1, kind: Widget, displayName: Widget, description: A widget.}
  install: {strategy: deployment, spec: {deployments: []}}
---
apiVersion: scorecard.operatorframework.io/v1alpha3
kind: Configuration
metadata: {name: config}
`

const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
`

const operator = `
apiVersion: v1
kind: Namespace
metadata: {name: x-system}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: x-manager, namespace: x-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: x-manager-role}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: x-manager}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x-manager-role}
subjects: [{kind: ServiceAccount, name: x-manager, namespace: x-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: x-leader-election, namespace: x-system}
rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: x-leader-election, namespace: x-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x-leader-election}
subjects: [{kind: ServiceAccount, name: x-manager, namespace: x-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: x-widget-viewer}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [list]}]
---
apiVersion: v1
kind: Service
metadata: {name: x-metrics, namespace: x-system}
spec: {ports: [{port: 8443}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: x-manager, namespace: x-system, labels: {app: x}}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      serviceAccountName: x-manager
      containers:
      - name: manager
        image: controller:latest
        env: [{name: CADDY_IMAGE, value: "caddy:latest"}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: sample, namespace: default}
spec: {size: 1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: sample}
`

var opts = Options{
	Package: "x", Version: "0.2.0", Replaces: "0.1.0", SkipRange: ">=0.1.0 <0.2.0",
	Channels: []string{"stable", "candidate"}, DefaultChannel: "stable",
	OperatorImage: "registry.example/x:v0.2.0", CaddyImage: "registry.example/caddy:v2",
}

func generate(t *testing.T, docs string, o Options) (map[string]string, error) {
	t.Helper()
	objs, err := Decode(strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(objs, o)
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out, err
}

func TestGenerate(t *testing.T) {
	files, err := generate(t, baseCSV+"---"+crd+"---"+operator, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"manifests/x.clusterserviceversion.yaml", "manifests/example.com_widgets.yaml",
		"manifests/x-widget-viewer_rbac.authorization.k8s.io_v1_clusterrole.yaml", "manifests/x-metrics_v1_service.yaml",
		"metadata/annotations.yaml", "tests/scorecard/config.yaml",
	}
	if len(files) != len(want) {
		t.Errorf("files: got %d, want %d: %v", len(files), len(want), keys(files))
	}
	for _, w := range want {
		if _, ok := files[w]; !ok {
			t.Errorf("missing %s; got %v", w, keys(files))
		}
	}
	var csv struct {
		Metadata struct {
			Name        string
			Annotations map[string]string
		}
		Spec struct {
			Version       string
			Replaces      string
			RelatedImages []struct{ Name, Image string } `json:"relatedImages"`
			Install       struct {
				Spec struct {
					Deployments []struct {
						Name string
						Spec struct {
							Template struct {
								Spec struct {
									Containers []struct {
										Image string
										Env   []struct{ Name, Value string }
									}
								}
							}
						}
					}
					Permissions []struct {
						ServiceAccountName string `json:"serviceAccountName"`
						Rules              []any
					}
					ClusterPermissions []struct {
						ServiceAccountName string `json:"serviceAccountName"`
						Rules              []any
					} `json:"clusterPermissions"`
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(files["manifests/x.clusterserviceversion.yaml"]), &csv); err != nil {
		t.Fatal(err)
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", what, got, want)
		}
	}
	check("name", csv.Metadata.Name, "x.v0.2.0")
	check("version", csv.Spec.Version, "0.2.0")
	check("replaces", csv.Spec.Replaces, "x.v0.1.0")
	check("olm.skipRange", csv.Metadata.Annotations["olm.skipRange"], ">=0.1.0 <0.2.0")
	check("containerImage", csv.Metadata.Annotations["containerImage"], opts.OperatorImage)
	if ex := csv.Metadata.Annotations["alm-examples"]; !strings.Contains(ex, `"kind": "Widget"`) || strings.Contains(ex, "Gateway") || strings.Contains(ex, "namespace") {
		t.Errorf("alm-examples: want the Widget sample only, without namespace: %s", ex)
	}
	deps := csv.Spec.Install.Spec.Deployments
	if len(deps) != 1 || len(deps[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("deployments: %+v", deps)
	}
	c := deps[0].Spec.Template.Spec.Containers[0]
	check("manager image", c.Image, opts.OperatorImage)
	check("CADDY_IMAGE", c.Env[0].Value, opts.CaddyImage)
	if p := csv.Spec.Install.Spec.Permissions; len(p) != 1 || p[0].ServiceAccountName != "x-manager" || len(p[0].Rules) != 1 {
		t.Errorf("permissions (the leader-election Role): %+v", p)
	}
	if p := csv.Spec.Install.Spec.ClusterPermissions; len(p) != 1 || p[0].ServiceAccountName != "x-manager" || len(p[0].Rules) != 1 {
		t.Errorf("clusterPermissions (the manager ClusterRole): %+v", p)
	}
	if len(csv.Spec.RelatedImages) != 2 {
		t.Errorf("relatedImages: %+v", csv.Spec.RelatedImages)
	}
	if svc := files["manifests/x-metrics_v1_service.yaml"]; strings.Contains(svc, "namespace") {
		t.Errorf("shipped objects carry no namespace: %s", svc)
	}
	for _, l := range []string{"package.v1: x\n", "channels.v1: stable,candidate\n", "channel.default.v1: stable\n"} {
		if !strings.Contains(files["metadata/annotations.yaml"], l) {
			t.Errorf("annotations.yaml lacks %q:\n%s", l, files["metadata/annotations.yaml"])
		}
	}
}

func TestGenerateFirstVersionHasNoUpgradeEdges(t *testing.T) {
	o := opts
	o.Replaces, o.SkipRange = "", ""
	files, err := generate(t, baseCSV+"---"+crd+"---"+operator, o)
	if err != nil {
		t.Fatal(err)
	}
	csv := files["manifests/x.clusterserviceversion.yaml"]
	if strings.Contains(csv, "replaces:") || strings.Contains(csv, "olm.skipRange") {
		t.Errorf("a first version has neither replaces nor olm.skipRange (the base's is dropped):\n%s", csv)
	}
}

// OLM cannot install a ValidatingAdmissionPolicy from a bundle: config/default's policy
// is left out of the bundle, not shipped as an object OLM would refuse.
func TestGenerateLeavesOutAdmissionPolicy(t *testing.T) {
	vap := "\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x-managed-objects}\n" +
		"---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: x-managed-objects}\n"
	files, err := generate(t, baseCSV+"---"+crd+"---"+operator+"---"+vap, opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if strings.Contains(content, "ValidatingAdmissionPolicy") {
			t.Errorf("%s ships the admission policy:\n%s", name, content)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	cases := map[string]struct {
		docs string
		o    func(*Options)
		want string
	}{
		"bad version":             {docs: baseCSV + "---" + crd + "---" + operator, o: func(o *Options) { o.Version = "v1" }, want: "version \"v1\""},
		"default channel missing": {docs: baseCSV + "---" + crd + "---" + operator, o: func(o *Options) { o.DefaultChannel = "fast" }, want: "defaultChannel \"fast\""},
		"no base":                 {docs: crd + "---" + operator, want: "no ClusterServiceVersion base"},
		"undescribed CRD": {docs: baseCSV + "---" + crd + "---" + operator + "---" + strings.ReplaceAll(crd, "widget", "gadget"),
			want: "CRD gadgets.example.com version v1: not described"},
		"unsupported kind": {docs: baseCSV + "---" + crd + "---" + operator + "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n",
			want: "Job j: OLM cannot install this kind"},
		"Gateway API CRD": {docs: baseCSV + "---" + crd + "---" + operator + "---" + strings.ReplaceAll(crd, "example.com", "gateway.networking.k8s.io"),
			want: "the gateway.networking.k8s.io API is installed separately"},
		"role missing": {docs: baseCSV + "---" + crd + "---" + strings.Replace(operator, "name: x-manager-role}", "name: x-other}", 1),
			want: "roleRef ClusterRole x-manager-role is not in config/rbac"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := opts
			if tc.o != nil {
				tc.o(&o)
			}
			_, err := generate(t, tc.docs, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

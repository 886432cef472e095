package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// ancestor is an entry of controller for the Gateway ns/name (ns empty: the policy's
// namespace, left out of the ref) with conditions of the given type=status pairs, all of
// generation gen and transition time at.
func ancestor(controller gwapiv1.GatewayController, ns, name string, gen int64, at time.Time, conds ...string) gwapiv1.PolicyAncestorStatus {
	a := gwapiv1.PolicyAncestorStatus{
		AncestorRef: gwapiv1.ParentReference{
			Group: ptr.To(gwapiv1.Group(gwapiv1.GroupName)), Kind: ptr.To(gwapiv1.Kind("Gateway")), Name: gwapiv1.ObjectName(name),
		},
		ControllerName: controller,
	}
	if ns != "" {
		a.AncestorRef.Namespace = ptr.To(gwapiv1.Namespace(ns))
	}
	for i := 0; i+1 < len(conds); i += 2 {
		a.Conditions = append(a.Conditions, metav1.Condition{
			Type: conds[i], Status: metav1.ConditionStatus(conds[i+1]), Reason: conds[i], ObservedGeneration: gen,
			LastTransitionTime: metav1.NewTime(at),
		})
	}
	return a
}

// TestMergePolicyAncestors: only this operator's entry for the Gateway is replaced,
// added or removed; entries of other Gateways and other controllers stay as and where
// they are; unchanged conditions keep their transition time; a stale translation does
// not overwrite a newer entry; a full list takes no new entry.
func TestMergePolicyAncestors(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := old.Add(time.Hour)
	const other = gwapiv1.GatewayController("example.com/other")
	foreign := ancestor(other, "app", "gw", 1, old, "Accepted", "True")           // another controller, same Gateway
	sibling := ancestor(testController, "app", "gw2", 1, old, "Accepted", "True") // ours, another Gateway
	ours := func(gen int64, at time.Time, conds ...string) gwapiv1.PolicyAncestorStatus {
		return ancestor(testController, "app", "gw", gen, at, conds...)
	}
	full := func(extra ...gwapiv1.PolicyAncestorStatus) []gwapiv1.PolicyAncestorStatus {
		var out []gwapiv1.PolicyAncestorStatus
		for i := range maxPolicyAncestors - len(extra) {
			out = append(out, ancestor(other, "app", fmt.Sprintf("g%d", i), 1, old, "Accepted", "True"))
		}
		return append(out, extra...)
	}
	cases := map[string]struct {
		current  []gwapiv1.PolicyAncestorStatus
		desired  *gwapiv1.PolicyAncestorStatus
		want     []gwapiv1.PolicyAncestorStatus
		wantFull bool
	}{
		"added after the others": {
			current: []gwapiv1.PolicyAncestorStatus{foreign, sibling},
			desired: ptr.To(ours(2, later, "Accepted", "True")),
			want:    []gwapiv1.PolicyAncestorStatus{foreign, sibling, ours(2, later, "Accepted", "True")},
		},
		"replaced in place, unchanged condition keeps its time": {
			current: []gwapiv1.PolicyAncestorStatus{ours(1, old, "Accepted", "True", "ResolvedRefs", "True"), foreign},
			desired: ptr.To(ours(2, later, "Accepted", "True", "ResolvedRefs", "False")),
			want: []gwapiv1.PolicyAncestorStatus{func() gwapiv1.PolicyAncestorStatus {
				a := ours(2, later, "Accepted", "True", "ResolvedRefs", "False")
				a.Conditions[0].LastTransitionTime = metav1.NewTime(old)
				return a
			}(), foreign},
		},
		"a condition type no longer wanted goes": {
			current: []gwapiv1.PolicyAncestorStatus{ours(1, old, "Accepted", "True", "ResolvedRefs", "True")},
			desired: ptr.To(ours(1, later, "Accepted", "True")),
			want:    []gwapiv1.PolicyAncestorStatus{ours(1, old, "Accepted", "True")},
		},
		"removed when not wanted": {
			current: []gwapiv1.PolicyAncestorStatus{foreign, ours(1, old, "Accepted", "True"), sibling},
			want:    []gwapiv1.PolicyAncestorStatus{foreign, sibling},
		},
		"a ref without namespace is in the policy's": {
			current: []gwapiv1.PolicyAncestorStatus{ancestor(testController, "", "gw", 1, old, "Accepted", "True"), sibling},
			want:    []gwapiv1.PolicyAncestorStatus{sibling},
		},
		"duplicates of ours are dropped": {
			current: []gwapiv1.PolicyAncestorStatus{ours(1, old, "Accepted", "True"), sibling, ours(1, old, "Accepted", "False")},
			desired: ptr.To(ours(1, later, "Accepted", "True")),
			want:    []gwapiv1.PolicyAncestorStatus{ours(1, old, "Accepted", "True"), sibling},
		},
		"an entry of a newer generation is left alone": {
			current: []gwapiv1.PolicyAncestorStatus{ours(3, old, "Accepted", "False")},
			desired: ptr.To(ours(2, later, "Accepted", "True")),
			want:    []gwapiv1.PolicyAncestorStatus{ours(3, old, "Accepted", "False")},
		},
		"nothing wanted, nothing there: an empty list, not null": {
			want: []gwapiv1.PolicyAncestorStatus{},
		},
		"a full list takes no new entry": {
			current:  full(),
			desired:  ptr.To(ours(1, later, "Accepted", "True")),
			want:     full(),
			wantFull: true,
		},
		"a full list still updates our entry": {
			current: full(ours(1, old, "Accepted", "False")),
			desired: ptr.To(ours(1, later, "Accepted", "True")),
			want:    full(ours(1, later, "Accepted", "True")),
		},
	}
	match := ancestorMatch{gateway: types.NamespacedName{Namespace: "app", Name: "gw"}, controller: testController, policyNS: "app"}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := slices.Clone(tc.current)
			got, gotFull := mergePolicyAncestors(tc.current, tc.desired, match)
			if !equality.Semantic.DeepEqual(got, tc.want) || got == nil {
				gy, _ := yaml.Marshal(got)
				wy, _ := yaml.Marshal(tc.want)
				t.Errorf("ancestors:\n%s\nwant:\n%s", gy, wy)
			}
			if gotFull != tc.wantFull {
				t.Errorf("full = %v, want %v", gotFull, tc.wantFull)
			}
			if !equality.Semantic.DeepEqual(before, tc.current) {
				t.Error("the current entries were modified")
			}
		})
	}
}

// TestBackendTLSKeys: a policy is indexed by the Services it targets and the CA objects
// it names, each once and of its own kind only; ancestor keys are this controller's
// Gateway entries; the Gateway's backend client certificate Secret is one of its Secrets.
func TestBackendTLSKeys(t *testing.T) {
	var p gwapiv1.BackendTLSPolicy
	if err := yaml.Unmarshal([]byte(`
metadata: {namespace: app, name: p}
spec:
  targetRefs:
  - {group: "", kind: Service, name: a, sectionName: https}
  - {group: "", kind: Service, name: a, sectionName: grpc}
  - {group: example.com, kind: Bucket, name: b}
  - {group: "", kind: Service, name: c}
  validation:
    hostname: a.example.com
    caCertificateRefs:
    - {group: "", kind: ConfigMap, name: ca}
    - {group: "", kind: Secret, name: not-a-ca}
    - {group: certificates.k8s.io, kind: ClusterTrustBundle, name: bundle}
    - {group: "", kind: ConfigMap, name: ca}
status:
  ancestors:
  - {ancestorRef: {name: gw}, controllerName: example.com/caddy, conditions: []}
  - {ancestorRef: {name: gw2, namespace: other}, controllerName: example.com/caddy, conditions: []}
  - {ancestorRef: {name: theirs}, controllerName: example.com/other, conditions: []}
  - {ancestorRef: {group: example.com, kind: Mesh, name: m}, controllerName: example.com/caddy, conditions: []}
`), &p); err != nil {
		t.Fatal(err)
	}
	if got, want := policyServiceKeys(&p), []client.ObjectKey{{Namespace: "app", Name: "a"}, {Namespace: "app", Name: "c"}}; !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	if got, want := policyConfigMapKeys(&p), []client.ObjectKey{{Namespace: "app", Name: "ca"}}; !slices.Equal(got, want) {
		t.Errorf("configMaps = %v, want %v", got, want)
	}
	if got, want := policyTrustBundleNames(&p), []string{"bundle"}; !slices.Equal(got, want) {
		t.Errorf("trust bundles = %v, want %v", got, want)
	}
	if got, want := policyAncestorKeys(&p, testController), []string{"app/gw", "other/gw2"}; !slices.Equal(got, want) {
		t.Errorf("ancestors = %v, want %v", got, want)
	}

	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "gw"}}
	gw.Spec.Listeners = []gwapiv1.Listener{{Name: "https", TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "cert"}}}}}
	gw.Spec.TLS = &gwapiv1.GatewayTLSConfig{Backend: &gwapiv1.GatewayBackendTLS{ClientCertificateRef: &gwapiv1.SecretObjectReference{
		Name: "client", Namespace: ptr.To(gwapiv1.Namespace("certs")),
	}}}
	if got, want := gatewaySecretRefs(gw), []client.ObjectKey{{Namespace: "app", Name: "cert"}, {Namespace: "certs", Name: "client"}}; !slices.Equal(got, want) {
		t.Errorf("Gateway Secrets = %v, want %v", got, want)
	}
}

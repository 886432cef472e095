// Package rbac tests what the operator is allowed to do: its generated ClusterRole
// (config/rbac/role.yaml) against a table of justified writes, and the admission policy
// (config/admission-policy) in a real API server.
package rbac

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/testenv"
)

// grant is one (apiGroup, resource, verb) of a ClusterRole.
type grant struct{ group, resource, verb string }

// readVerbs are granted without a justification: they write nothing.
var readVerbs = []string{"get", "list", "watch"}

// justified lists every write the operator's ClusterRole may grant and why the code needs
// it. A write not listed here fails the test, and so does a listed one no longer granted.
var justified = map[grant]string{
	{"", "configmaps", "create"}:      "server-side apply creates the bootstrap ConfigMap (apply of a missing object is authorised as create)",
	{"", "configmaps", "patch"}:       "server-side apply of the bootstrap ConfigMap",
	{"", "configmaps", "delete"}:      "prune and release delete the bootstrap ConfigMap",
	{"", "serviceaccounts", "create"}: "server-side apply creates the Caddy pods' ServiceAccount",
	{"", "serviceaccounts", "patch"}:  "server-side apply of the Caddy pods' ServiceAccount",
	{"", "serviceaccounts", "delete"}: "prune and release delete the ServiceAccount",
	{"", "services", "create"}:        "server-side apply creates the Gateway's Service",
	{"", "services", "patch"}:         "server-side apply of the Gateway's Service",
	{"", "services", "delete"}:        "an immutable field change recreates the Service; prune and release delete it",
	{"", "secrets", "create"}:         "the built-in CA issues the admin certificate Secrets when cert-manager is absent",
	{"", "secrets", "update"}:         "the built-in CA renews the admin certificate Secrets",
	{"", "secrets", "delete"}:         "release deletes the admin certificate Secrets, cert-manager's issued ones included",
	// Pods: the pushed-hash annotation. The push-target work removes it: drop this row then.
	{"apps", "deployments", "create"}:                     "server-side apply creates the Caddy Deployment",
	{"apps", "deployments", "patch"}:                      "server-side apply of the Caddy Deployment",
	{"apps", "deployments", "delete"}:                     "a selector change or a switch to DaemonSet deletes the Deployment",
	{"apps", "daemonsets", "create"}:                      "server-side apply creates the Caddy DaemonSet",
	{"apps", "daemonsets", "patch"}:                       "server-side apply of the Caddy DaemonSet",
	{"apps", "daemonsets", "delete"}:                      "a switch to Deployment or a release deletes the DaemonSet",
	{"networking.k8s.io", "networkpolicies", "create"}:    "server-side apply creates the admin-port NetworkPolicy",
	{"networking.k8s.io", "networkpolicies", "patch"}:     "server-side apply of the NetworkPolicy",
	{"networking.k8s.io", "networkpolicies", "delete"}:    "networkPolicy.enabled=false prunes it",
	{"autoscaling", "horizontalpodautoscalers", "create"}: "server-side apply creates the HPA of workload.autoscaling",
	{"autoscaling", "horizontalpodautoscalers", "patch"}:  "server-side apply of the HPA",
	{"autoscaling", "horizontalpodautoscalers", "delete"}: "removing workload.autoscaling prunes the HPA",
	{"policy", "poddisruptionbudgets", "create"}:          "server-side apply creates the PDB of workload.podDisruptionBudget",
	{"policy", "poddisruptionbudgets", "patch"}:           "server-side apply of the PDB",
	{"policy", "poddisruptionbudgets", "delete"}:          "removing workload.podDisruptionBudget prunes the PDB",
	// cert-manager: the per-Gateway admin identity work moves these into a namespaced Role in
	// the operator's namespace: drop these rows from the ClusterRole's table then.
	{"cert-manager.io", "issuers", "create"}:                          "server-side apply creates the admin CA Issuers",
	{"cert-manager.io", "issuers", "patch"}:                           "server-side apply of the admin CA Issuers",
	{"cert-manager.io", "issuers", "delete"}:                          "release deletes the admin CA Issuers",
	{"cert-manager.io", "certificates", "create"}:                     "server-side apply creates the admin Certificates",
	{"cert-manager.io", "certificates", "patch"}:                      "server-side apply of the admin Certificates",
	{"cert-manager.io", "certificates", "delete"}:                     "release deletes the admin Certificates",
	{"events.k8s.io", "events", "create"}:                             "Events on Gateways (Recreating, Issued, PushFailed, Released)",
	{"events.k8s.io", "events", "patch"}:                              "the event recorder patches a repeated Event's series count",
	{"gateway.caddygateway.io", "caddyproxyconfigs/status", "update"}: "the CaddyProxyConfig status (Accepted, ancestors)",
	{"gateway.networking.k8s.io", "gatewayclasses", "patch"}:          "the gateway-exists finalizer while Gateways use the class",
	{"gateway.networking.k8s.io", "gatewayclasses/status", "update"}:  "the GatewayClass status (Accepted, supportedFeatures)",
	{"gateway.networking.k8s.io", "gateways/status", "patch"}:         "the Gateway status, a resourceVersion-guarded merge patch",
	{"gateway.networking.k8s.io", "gateways/finalizers", "update"}:    "blockOwnerDeletion on the fleet's owner references to the Gateway (OwnerReferencesPermissionEnforcement)",
	{"gateway.networking.k8s.io", "httproutes/status", "update"}:      "our parent entries in HTTPRoute statuses",
	{"gateway.networking.k8s.io", "grpcroutes/status", "update"}:      "our parent entries in GRPCRoute statuses",
}

func readClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(raw, &role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	return &role
}

// grants expands rules into one grant per (apiGroup, resource, verb).
func grants(rules []rbacv1.PolicyRule) []grant {
	var out []grant
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, grant{g, res, v})
				}
			}
		}
	}
	return out
}

func TestClusterRoleWritesAreJustified(t *testing.T) {
	role := readClusterRole(t)
	granted := map[grant]bool{}
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: resourceNames and nonResourceURLs are not expected in the manager ClusterRole", r)
		}
	}
	for _, g := range grants(role.Rules) {
		granted[g] = true
		if g.group == "*" || g.resource == "*" || g.verb == "*" || strings.HasSuffix(g.resource, "/*") {
			t.Errorf("%+v: wildcards grant more than the operator uses", g)
			continue
		}
		if slices.Contains(readVerbs, g.verb) {
			continue
		}
		if _, ok := justified[g]; !ok {
			t.Errorf("ClusterRole grants %q on %q of group %q, which no entry of the table justifies: remove the "+
				"+kubebuilder:rbac verb or justify it here", g.verb, g.resource, g.group)
		}
	}
	for g := range justified {
		if !granted[g] {
			t.Errorf("the table justifies %q on %q of group %q, which the ClusterRole no longer grants: remove the entry",
				g.verb, g.resource, g.group)
		}
	}
}

// Package rbac tests what the operator is allowed to do: its generated ClusterRole and Role
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

// grant is one (apiGroup, resource, verb) of a role.
type grant struct{ group, resource, verb string }

// readVerbs are granted without a justification: they write nothing.
var readVerbs = []string{"get", "list", "watch"}

// justified lists every write the operator's ClusterRole may grant and why the code needs
// it. A write not listed here fails the test, and so does a listed one no longer granted.
var justified = map[grant]string{
	{"", "configmaps", "create"}:                            "server-side apply creates the bootstrap ConfigMap (apply of a missing object is authorised as create)",
	{"", "configmaps", "patch"}:                             "server-side apply of the bootstrap ConfigMap",
	{"", "configmaps", "delete"}:                            "prune and release delete the bootstrap ConfigMap",
	{"", "serviceaccounts", "create"}:                       "server-side apply creates the Caddy pods' ServiceAccount",
	{"", "serviceaccounts", "patch"}:                        "server-side apply of the Caddy pods' ServiceAccount",
	{"", "serviceaccounts", "delete"}:                       "prune and release delete the ServiceAccount",
	{"", "services", "create"}:                              "server-side apply creates the Gateway's Service",
	{"", "services", "patch"}:                               "server-side apply of the Gateway's Service",
	{"", "services", "delete"}:                              "an immutable field change recreates the Service; prune and release delete it",
	{"", "secrets", "create"}:                               "the built-in CA issues the admin certificate Secrets when cert-manager is absent",
	{"", "secrets", "update"}:                               "the built-in CA renews the admin certificate Secrets",
	{"", "secrets", "delete"}:                               "release deletes the admin certificate Secrets, cert-manager's issued ones included",
	{"", "secrets", "patch"}:                                "server-side apply of the metadata of the storage Secrets of automatic certificates (never their data)",
	{"coordination.k8s.io", "leases", "create"}:             "server-side apply creates the lock Leases of automatic certificates, empty",
	{"coordination.k8s.io", "leases", "patch"}:              "server-side apply of the metadata of the lock Leases",
	{"coordination.k8s.io", "leases", "update"}:             "the Role of a Gateway's pods grants update on its Leases: granting takes holding (escalation check)",
	{"coordination.k8s.io", "leases", "delete"}:             "a Gateway that stops using automatic certificates prunes its Leases; release deletes them",
	{"rbac.authorization.k8s.io", "roles", "create"}:        "server-side apply creates the Role of a Gateway's pods on their certificate storage",
	{"rbac.authorization.k8s.io", "roles", "patch"}:         "server-side apply of that Role",
	{"rbac.authorization.k8s.io", "roles", "delete"}:        "a Gateway that stops using automatic certificates prunes the Role; release deletes it",
	{"rbac.authorization.k8s.io", "rolebindings", "create"}: "server-side apply creates the binding of that Role to the Gateway's ServiceAccount",
	{"rbac.authorization.k8s.io", "rolebindings", "patch"}:  "server-side apply of that RoleBinding",
	{"rbac.authorization.k8s.io", "rolebindings", "delete"}: "pruned and released with the Role",
	// Pods: the pushed-hash annotation. The push-target work removes it: drop this row then.
	{"apps", "deployments", "create"}:                                    "server-side apply creates the Caddy Deployment",
	{"apps", "deployments", "patch"}:                                     "server-side apply of the Caddy Deployment",
	{"apps", "deployments", "delete"}:                                    "a selector change or a switch to DaemonSet deletes the Deployment",
	{"apps", "daemonsets", "create"}:                                     "server-side apply creates the Caddy DaemonSet",
	{"apps", "daemonsets", "patch"}:                                      "server-side apply of the Caddy DaemonSet",
	{"apps", "daemonsets", "delete"}:                                     "a switch to Deployment or a release deletes the DaemonSet",
	{"networking.k8s.io", "networkpolicies", "create"}:                   "server-side apply creates the admin-port NetworkPolicy",
	{"networking.k8s.io", "networkpolicies", "patch"}:                    "server-side apply of the NetworkPolicy",
	{"networking.k8s.io", "networkpolicies", "delete"}:                   "networkPolicy.enabled=false prunes it",
	{"autoscaling", "horizontalpodautoscalers", "create"}:                "server-side apply creates the HPA of workload.autoscaling",
	{"autoscaling", "horizontalpodautoscalers", "patch"}:                 "server-side apply of the HPA",
	{"autoscaling", "horizontalpodautoscalers", "delete"}:                "removing workload.autoscaling prunes the HPA",
	{"policy", "poddisruptionbudgets", "create"}:                         "server-side apply creates the PDB of workload.podDisruptionBudget",
	{"policy", "poddisruptionbudgets", "patch"}:                          "server-side apply of the PDB",
	{"policy", "poddisruptionbudgets", "delete"}:                         "removing workload.podDisruptionBudget prunes the PDB",
	{"events.k8s.io", "events", "create"}:                                "Events on Gateways (Recreating, Issued, PushFailed, Released)",
	{"events.k8s.io", "events", "patch"}:                                 "the event recorder patches a repeated Event's series count",
	{"gateway.caddygateway.io", "caddyproxyconfigs/status", "update"}:    "the CaddyProxyConfig status (Accepted, ancestors)",
	{"gateway.networking.k8s.io", "gatewayclasses", "patch"}:             "the gateway-exists finalizer while Gateways use the class",
	{"gateway.networking.k8s.io", "gatewayclasses/status", "update"}:     "the GatewayClass status (Accepted, supportedFeatures)",
	{"gateway.networking.k8s.io", "gateways/status", "patch"}:            "the Gateway status, a resourceVersion-guarded merge patch",
	{"gateway.networking.k8s.io", "listenersets/status", "patch"}:        "the status of the ListenerSets naming our Gateways, a resourceVersion-guarded merge patch",
	{"gateway.networking.k8s.io", "gateways/finalizers", "update"}:       "blockOwnerDeletion on the fleet's owner references to the Gateway (OwnerReferencesPermissionEnforcement)",
	{"gateway.networking.k8s.io", "httproutes/status", "update"}:         "our parent entries in HTTPRoute statuses",
	{"gateway.networking.k8s.io", "grpcroutes/status", "update"}:         "our parent entries in GRPCRoute statuses",
	{"gateway.networking.k8s.io", "tlsroutes/status", "update"}:          "our parent entries in TLSRoute statuses",
	{"gateway.networking.k8s.io", "tcproutes/status", "update"}:          "our parent entries in TCPRoute statuses",
	{"gateway.networking.k8s.io", "udproutes/status", "update"}:          "our parent entries in UDPRoute statuses",
	{"gateway.networking.k8s.io", "backendtlspolicies/status", "update"}: "our ancestor entries (one per Gateway) in BackendTLSPolicy statuses",
}

// readRoles reads the generated roles: the manager ClusterRole and the Role of the operator's
// namespace, which config/rbac/role.yaml holds as two documents.
// justifiedInNamespace is justified for the Role of the operator's namespace, where the
// admin channel's cert-manager objects live.
var justifiedInNamespace = map[grant]string{
	{"cert-manager.io", "issuers", "create"}:             "server-side apply creates the admin CA Issuers",
	{"cert-manager.io", "issuers", "patch"}:              "server-side apply of the admin CA Issuers",
	{"cert-manager.io", "issuers", "delete"}:             "a deleted Gateway's admin Issuers are deleted",
	{"cert-manager.io", "certificates", "create"}:        "server-side apply creates the admin Certificates",
	{"cert-manager.io", "certificates", "patch"}:         "server-side apply of the admin Certificates",
	{"cert-manager.io", "certificates", "delete"}:        "a deleted Gateway's admin Certificates are deleted",
	{"cert-manager.io", "certificates/status", "update"}: "a CA change triggers the reissue of both leaves (the Issuing condition, as cmctl renew sets it)",
}

func readRoles(t *testing.T) (*rbacv1.ClusterRole, *rbacv1.Role) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("config/rbac/role.yaml has %d documents, want the ClusterRole and the Role", len(docs))
	}
	var cluster rbacv1.ClusterRole
	var namespaced rbacv1.Role
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &cluster); err != nil || cluster.Kind != "ClusterRole" {
		t.Fatalf("config/rbac/role.yaml, first document: want the ClusterRole (kind %q, %v)", cluster.Kind, err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &namespaced); err != nil || namespaced.Kind != "Role" {
		t.Fatalf("config/rbac/role.yaml, second document: want the Role (kind %q, %v)", namespaced.Kind, err)
	}
	return &cluster, &namespaced
}

// readClusterRole is the manager ClusterRole of config/rbac/role.yaml.
func readClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	role, _ := readRoles(t)
	return role
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
	cluster, namespaced := readRoles(t)
	checkJustified(t, "ClusterRole", cluster.Rules, justified)
	checkJustified(t, "Role of the operator's namespace", namespaced.Rules, justifiedInNamespace)
}

// checkJustified fails on a write of rules that table does not justify, on a wildcard, and
// on a row of table that rules no longer grant.
func checkJustified(t *testing.T, role string, rules []rbacv1.PolicyRule, table map[grant]string) {
	t.Helper()
	for _, r := range rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("%s rule %+v: resourceNames and nonResourceURLs are not expected", role, r)
		}
	}
	granted := map[grant]bool{}
	for _, g := range grants(rules) {
		granted[g] = true
		if g.group == "*" || g.resource == "*" || g.verb == "*" || strings.HasSuffix(g.resource, "/*") {
			t.Errorf("%s %+v: wildcards grant more than the operator uses", role, g)
			continue
		}
		if slices.Contains(readVerbs, g.verb) {
			continue
		}
		if _, ok := table[g]; !ok {
			t.Errorf("%s grants %q on %q of group %q, which no entry of the table justifies: remove the "+
				"+kubebuilder:rbac verb or justify it here", role, g.verb, g.resource, g.group)
		}
	}
	for g := range table {
		if !granted[g] {
			t.Errorf("the table justifies %q on %q of group %q, which the %s no longer grants: remove the entry",
				g.verb, g.resource, g.group, role)
		}
	}
}

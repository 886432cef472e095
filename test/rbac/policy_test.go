package rbac

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/testenv"
)

// kustomization is the part of config/default/kustomization.yaml that names the operator's
// ServiceAccount.
type kustomization struct {
	Namespace  string `json:"namespace"`
	NamePrefix string `json:"namePrefix"`
}

// operatorUser is the username of the operator's ServiceAccount as config/default installs
// it, from the kustomization and config/rbac/service_account.yaml.
func operatorUser(t *testing.T, root string) (namespace, name string) {
	t.Helper()
	var k kustomization
	readYAML(t, filepath.Join(root, "config", "default", "kustomization.yaml"), &k, false)
	var sa corev1.ServiceAccount
	readYAML(t, filepath.Join(root, "config", "rbac", "service_account.yaml"), &sa, true)
	return k.Namespace, k.NamePrefix + sa.Name
}

func readYAML(t *testing.T, path string, into any, strict bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		err = yaml.UnmarshalStrict(raw, into)
	} else {
		err = yaml.Unmarshal(raw, into)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestAdmissionPolicyLimitsOperatorToManagedObjects installs the generated ClusterRole,
// bound to the operator's ServiceAccount, and config/admission-policy in a real API
// server, then writes as that ServiceAccount: objects labelled managed-by the operator
// can be created, applied, updated and deleted; unlabelled ones cannot, nor can a labelled
// write take over an unlabelled object.
func TestAdmissionPolicyLimitsOperatorToManagedObjects(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatalf("cannot start the test API server: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := t.Context()
	admin := env.Client
	opNS, opName := operatorUser(t, env.ModuleRoot)
	username := "system:serviceaccount:" + opNS + ":" + opName

	role := readClusterRole(t)
	var policy admissionv1.ValidatingAdmissionPolicy
	readYAML(t, filepath.Join(env.ModuleRoot, "config", "admission-policy", "policy.yaml"), &policy, true)
	var binding admissionv1.ValidatingAdmissionPolicyBinding
	readYAML(t, filepath.Join(env.ModuleRoot, "config", "admission-policy", "binding.yaml"), &binding, true)
	if got := policy.Spec.MatchConditions[0].Expression; !strings.Contains(got, "'"+username+"'") {
		t.Fatalf("the policy matches %s, not the operator's ServiceAccount %s as config/default installs it", got, username)
	}
	must(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opNS}}))
	must(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}))
	must(t, admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: opNS, Name: opName}}))
	must(t, admin.Create(ctx, role))
	must(t, admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: opNS, Name: opName}},
	}))
	must(t, admin.Create(ctx, &policy))
	must(t, admin.Create(ctx, &binding))

	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: username,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + opNS, "system:authenticated"}}
	op, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	managed := map[string]string{infra.LabelManagedBy: infra.ManagedByValue}

	// The policy takes effect once the API server has compiled it.
	waitDenied(t, func() error {
		return op.Create(ctx, secret("probe", nil))
	})

	t.Run("Secret", func(t *testing.T) {
		denied(t, "create unlabelled", op.Create(ctx, secret("user", nil)))
		allowed(t, "create labelled", op.Create(ctx, secret("ours", managed)))
		var s corev1.Secret
		must(t, op.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "ours"}, &s))
		s.Labels = nil
		denied(t, "update dropping the label", op.Update(ctx, &s))
		must(t, admin.Create(ctx, secret("theirs", nil)))
		var theirs corev1.Secret
		must(t, op.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "theirs"}, &theirs))
		theirs.Labels = managed
		denied(t, "update labelling someone else's", op.Update(ctx, &theirs))
		denied(t, "delete someone else's", op.Delete(ctx, secret("theirs", nil)))
		allowed(t, "delete labelled", op.Delete(ctx, secret("ours", nil)))
	})
	t.Run("Deployment", func(t *testing.T) {
		apply := func(name string, labels map[string]string) error {
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(deployment(name, labels))
			if err != nil {
				return err
			}
			u := &unstructured.Unstructured{Object: obj}
			return op.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("caddy-gateway-operator"), client.ForceOwnership)
		}
		denied(t, "apply unlabelled", apply("user", nil))
		allowed(t, "apply labelled (creates)", apply("ours", managed))
		allowed(t, "apply labelled again (updates)", apply("ours", managed))
		must(t, admin.Create(ctx, deployment("theirs", nil)))
		denied(t, "apply labelled over someone else's", apply("theirs", managed))
		denied(t, "delete someone else's", op.Delete(ctx, deployment("theirs", nil)))
		allowed(t, "delete labelled", op.Delete(ctx, deployment("ours", nil)))
	})
	t.Run("certificate storage", func(t *testing.T) {
		lease := func(ns, name string, labels map[string]string) *coordinationv1.Lease {
			return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
		}
		allowed(t, "create a labelled Lease", op.Create(ctx, lease("apps", "gw-caddy-acme-lock-0", managed)))
		denied(t, "create an unlabelled Lease", op.Create(ctx, lease("apps", "user", nil)))
		allowed(t, "create the leader election Lease", op.Create(ctx, lease(opNS, "caddy-gateway-operator.caddygateway.io", nil)))
		// The operator holds get and update on secrets and leases, so it may grant them
		// (the API server's escalation check), by name, to a Gateway's ServiceAccount.
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "gw-caddy-acme", Labels: managed},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"gw-caddy-acme-0"}, Verbs: []string{"get", "update"}},
				{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"gw-caddy-acme-lock-0"}, Verbs: []string{"get", "update"}},
			}}
		allowed(t, "create the storage Role", op.Create(ctx, role))
		allowed(t, "bind it to the Gateway's ServiceAccount", op.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "gw-caddy-acme", Labels: managed},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "apps", Name: "gw-caddy"}},
		}))
		more := role.DeepCopy()
		more.Name, more.Rules = "more", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}}}
		if err := op.Create(ctx, more); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "attempting to grant RBAC permissions not currently held") {
			t.Errorf("create a Role granting what the operator does not hold: want the escalation check's refusal, got %v", err)
		}
		unlabelled := role.DeepCopy()
		unlabelled.Name, unlabelled.Labels = "unlabelled", nil
		denied(t, "create an unlabelled Role", op.Create(ctx, unlabelled))
	})
	t.Run("not matched", func(t *testing.T) {
		// Events are not the operator's objects: the policy leaves them alone.
		allowed(t, "create an Event", op.Create(ctx, &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "e"}, EventTime: metav1.NowMicro(),
			ReportingController: "caddygateway.io/gateway-controller", ReportingInstance: "x", Action: "Apply", Reason: "Test",
			Type: corev1.EventTypeNormal, Regarding: corev1.ObjectReference{Kind: "Secret", Namespace: "apps", Name: "theirs"},
		}))
		// Other users are not the operator: the policy does not apply to them.
		allowed(t, "an administrator creates an unlabelled Secret", admin.Create(ctx, secret("admins", nil)))
	})
}

func secret(name string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, Labels: labels}}
}

func deployment(name string, labels map[string]string) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}},
			},
		},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func allowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: want allowed, got %v", what, err)
	}
}

// denied wants the admission policy's refusal, not RBAC's: both are Forbidden, only the
// policy's names the label.
func denied(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || err == nil ||
		!strings.Contains(err.Error(), "labelled app.kubernetes.io/managed-by="+infra.ManagedByValue) {
		t.Errorf("%s: want the admission policy's denial, got %v", what, err)
	}
}

func waitDenied(t *testing.T, write func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) {
			last = write()
			return last != nil && strings.Contains(last.Error(), "managed-by"), nil
		})
	if err != nil {
		t.Fatalf("the admission policy never took effect; last write returned %v", last)
	}
}

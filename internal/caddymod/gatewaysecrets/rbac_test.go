package gatewaysecrets

import (
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// TestRoleWithResourceNamesSuffices runs the storage as a ServiceAccount bound to a Role
// that allows get and update of the Gateway's own Secrets and Leases only, as the
// operator binds the Caddy pods: the storage works, and another Secret is refused.
func TestRoleWithResourceNamesSuffices(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	rc := serviceAccountConfig(t, ctx, cfg)
	s := replica(t, cfg, "pod-a/1", rc)

	key := "certificates/x/a.example.com/a.example.com.crt"
	must(t, s.Store(ctx, key, []byte("crt")))
	if v, err := s.Load(ctx, key); err != nil || string(v) != "crt" {
		t.Fatalf("Load as the ServiceAccount = %q, %v", v, err)
	}
	if l, err := s.List(ctx, "certificates", true); err != nil || len(l) != 3 {
		t.Fatalf("List as the ServiceAccount = %v, %v", l, err)
	}
	must(t, s.Lock(ctx, "issue_cert_a.example.com"))
	must(t, s.Unlock(ctx, "issue_cert_a.example.com"))
	must(t, s.Delete(ctx, "certificates"))

	// Another Secret in the same namespace exists, but the Role does not name it.
	foreign := cfg
	foreign.Secrets = append([]string(nil), cfg.Secrets...)
	for i := range foreign.Secrets {
		foreign.Secrets[i] = "other-gateway-tls"
	}
	_, err := admin.CoreV1().Secrets(cfg.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "other-gateway-tls"},
		Data:       map[string][]byte{"tls.key": []byte("secret")},
	}, metav1.CreateOptions{})
	must(t, err)
	other := replica(t, foreign, "pod-a/2", rc)
	if _, err := other.Load(ctx, key); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "other-gateway-tls") {
		t.Fatalf("Load from a Secret the Role does not name: %v; want forbidden", err)
	}
	if err := other.Store(ctx, key, []byte("x")); !apierrors.IsForbidden(err) {
		t.Fatalf("Store into a Secret the Role does not name: %v; want forbidden", err)
	}
}

// serviceAccountConfig creates a ServiceAccount bound to the Caddy pods' Role and returns
// a configuration authenticating with a token of it.
func serviceAccountConfig(t *testing.T, ctx context.Context, cfg acmestore.StorageConfig) *rest.Config {
	t.Helper()
	ns := cfg.Namespace
	sa, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy"}}, metav1.CreateOptions{})
	must(t, err)
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-acme"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: cfg.Secrets, Verbs: []string{"get", "update"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: cfg.Leases, Verbs: []string{"get", "update"}},
		},
	}
	_, err = admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{})
	must(t, err)
	_, err = admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-acme"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: ns}},
	}, metav1.CreateOptions{})
	must(t, err)
	tr, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	must(t, err)
	return &rest.Config{Host: env.Config.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: env.Config.CAData}}
}

func ptrTo[T any](v T) *T { return &v }

//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// TestAdmissionPolicyInstalled checks that config/default's admission policy is live in the
// cluster the suite deployed: the operator's ServiceAccount cannot create an unlabelled
// Secret, while the Gateways of the other tests are provisioned under the same policy.
func TestAdmissionPolicyInstalled(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	rc := rest.CopyConfig(cfg.Client().RESTConfig())
	rc.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + utils.OperatorNamespace + ":caddy-gateway-controller-manager",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + utils.OperatorNamespace, "system:authenticated"},
	}
	op, err := client.New(rc, client.Options{Scheme: cfg.Client().Resources().GetScheme()})
	if err != nil {
		t.Fatal(err)
	}
	unlabelled := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.Namespace(), Name: "not-the-operators"}}
	err = op.Create(ctx, unlabelled)
	if err == nil {
		deleteAll(ctx, t, cfg.Client().Resources().GetControllerRuntimeClient(), unlabelled)
		t.Fatal("the operator's ServiceAccount created an unlabelled Secret: the admission policy is not in force")
	}
	if !strings.Contains(err.Error(), "labelled app.kubernetes.io/managed-by="+infra.ManagedByValue) {
		t.Fatalf("want the admission policy's denial, got %v", err)
	}
}

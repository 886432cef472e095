package infra

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// The shared certificate storage of a Gateway with automatic certificates (Input.ACME).
const (
	// LabelComponent marks the storage Secrets and Leases (ACMEStorageComponent), so
	// that watches can tell them from the fleet's other Secrets.
	LabelComponent       = "app.kubernetes.io/component"
	ACMEStorageComponent = "acme-storage"
	// ServiceAccountTokenDir is where the caddy container finds the Kubernetes API
	// credentials of the storage (client-go's in-cluster configuration reads it):
	// token, ca.crt and namespace.
	ServiceAccountTokenDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	// TokenExpirationSeconds is the lifetime of the projected token; the kubelet
	// replaces it at 80% of that, and client-go re-reads the file.
	TokenExpirationSeconds int64 = 3600
	// volToken is the projected volume of the token.
	volToken = "kube-api-access"
)

// acmeObjects are the storage of a Gateway with automatic certificates: the Secrets and
// Leases of acmestore.For (created empty: the operator never writes their data or
// spec, only their labels and owner), a Role that lets their holder get and update
// exactly those, and its binding to the Gateway's ServiceAccount.
func (r *renderer) acmeObjects() []client.Object {
	store := acmestore.For(r.gw.Namespace, r.gw.Name)
	component := map[string]string{LabelComponent: ACMEStorageComponent}
	var objs []client.Object
	for _, name := range store.Secrets {
		objs = append(objs, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: r.meta(name, component, nil),
			Type:       corev1.SecretTypeOpaque,
		})
	}
	for _, name := range store.Leases {
		objs = append(objs, &coordinationv1.Lease{
			TypeMeta:   metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
			ObjectMeta: r.meta(name, component, nil),
		})
	}
	verbs := []string{"get", "update"}
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: r.meta(r.names.ACME, nil, nil),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: store.Secrets, Verbs: verbs},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: store.Leases, Verbs: verbs},
		},
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: r.meta(r.names.ACME, nil, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.names.ACME},
		Subjects: []rbacv1.Subject{{
			Kind: rbacv1.ServiceAccountKind, Name: r.names.Workload, Namespace: r.gw.Namespace}},
	}
	return append(objs, role, binding)
}

// tokenVolume is the projected volume of the Kubernetes API credentials the storage
// uses, the same as the one the API server would add for an automounted token; nil
// without automatic certificates. Only the caddy container mounts it (tokenMount).
func (r *renderer) tokenVolume() *corev1.Volume {
	if !r.in.ACME {
		return nil
	}
	return &corev1.Volume{Name: volToken, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](0o444),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Path: "token", ExpirationSeconds: ptr.To(TokenExpirationSeconds)}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}}
}

// tokenMount is where the caddy container mounts the token volume.
var tokenMount = corev1.VolumeMount{Name: volToken, MountPath: ServiceAccountTokenDir, ReadOnly: true}

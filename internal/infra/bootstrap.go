package infra

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// BootstrapConfig is the config every Caddy pod starts with (`caddy run --config
// /etc/caddy/bootstrap.json`, from the ConfigMap rendered here): the admin API on the unix
// socket only, nothing persisted, and no readiness server, so the pod turns Ready only
// after the operator pushed its first config. Pushed configs must carry the same admin
// block: POST /load replaces everything, including where the admin API listens.
const BootstrapConfig = `{"admin":{"listen":"unix/` + AdminSocket + `","config":{"persist":false}}}`

func (r *renderer) bootstrap() client.Object {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(r.names.Bootstrap, nil, nil),
		Data:       map[string]string{BootstrapKey: BootstrapConfig},
	}
}

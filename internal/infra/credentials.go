package infra

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// errCredentials is the reason every credentials check gives: the Caddy pods hold no
// Kubernetes credentials, so nothing in them (a compromised Caddy module, a request
// smuggled to the admin-proxy) can act on the cluster.
var errCredentials = errors.New("the Caddy pods run without Kubernetes credentials")

// checkNoCredentials refuses an object that a patch made hand Kubernetes credentials to
// the Caddy pods: a ServiceAccount or pod template that mounts a token, a projected
// service account token volume, or another ServiceAccount than the rendered one.
func checkNoCredentials(obj client.Object, serviceAccount string) error {
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		if o.AutomountServiceAccountToken == nil || *o.AutomountServiceAccountToken {
			return fmt.Errorf("%w: automountServiceAccountToken must stay false", errCredentials)
		}
	case *appsv1.Deployment:
		return checkPodCredentials(&o.Spec.Template.Spec, serviceAccount)
	case *appsv1.DaemonSet:
		return checkPodCredentials(&o.Spec.Template.Spec, serviceAccount)
	}
	return nil
}

func checkPodCredentials(spec *corev1.PodSpec, serviceAccount string) error {
	const path = "spec.template.spec."
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		return fmt.Errorf("%w: %sautomountServiceAccountToken must stay false", errCredentials, path)
	}
	if spec.ServiceAccountName != serviceAccount || (spec.DeprecatedServiceAccount != "" && spec.DeprecatedServiceAccount != serviceAccount) {
		return fmt.Errorf("%w: %sserviceAccountName must stay %s", errCredentials, path, serviceAccount)
	}
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				return fmt.Errorf("%w: %svolumes[%s] may not project a service account token", errCredentials, path, v.Name)
			}
		}
	}
	return nil
}

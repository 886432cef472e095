package infra

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// errCredentials is the reason every credentials check gives: the Caddy pods hold no
// Kubernetes credentials, so nothing in them (a compromised Caddy module, a request
// smuggled to the admin-proxy) can act on the cluster. With automatic certificates the
// reason is errStorageCredentials: the caddy container alone holds the rendered token,
// which opens its certificate storage and nothing else.
var (
	errCredentials        = errors.New("the Caddy pods run without Kubernetes credentials")
	errStorageCredentials = errors.New("the Caddy pods hold no Kubernetes credentials but the caddy container's token of its certificate storage")
)

// credentials are the Kubernetes credentials the rendered Caddy pods hold.
type credentials struct {
	// serviceAccount is the rendered ServiceAccount's name.
	serviceAccount string
	// token is the rendered projected token volume (tokenVolume), which only the caddy
	// container mounts, at tokenMount; nil when none is rendered.
	token *corev1.Volume
}

// reason is the error a refusal wraps.
func (c credentials) reason() error {
	if c.token != nil {
		return errStorageCredentials
	}
	return errCredentials
}

// checkCredentials refuses an object that a patch made hand Kubernetes credentials to
// the Caddy pods beyond allowed: a ServiceAccount or pod template that automounts a
// token, another ServiceAccount than the rendered one, a projected service account token
// volume other than the rendered one, or the rendered one mounted anywhere but the caddy
// container's tokenMount.
func checkCredentials(obj client.Object, allowed credentials) error {
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		if o.AutomountServiceAccountToken == nil || *o.AutomountServiceAccountToken {
			return fmt.Errorf("%w: automountServiceAccountToken must stay false", allowed.reason())
		}
	case *appsv1.Deployment:
		return checkPodCredentials(&o.Spec.Template.Spec, allowed)
	case *appsv1.DaemonSet:
		return checkPodCredentials(&o.Spec.Template.Spec, allowed)
	}
	return nil
}

const podSpecPath = "spec.template.spec."

func checkPodCredentials(spec *corev1.PodSpec, allowed credentials) error {
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		return fmt.Errorf("%w: %sautomountServiceAccountToken must stay false", allowed.reason(), podSpecPath)
	}
	sa := allowed.serviceAccount
	if spec.ServiceAccountName != sa || (spec.DeprecatedServiceAccount != "" && spec.DeprecatedServiceAccount != sa) {
		return fmt.Errorf("%w: %sserviceAccountName must stay %s", allowed.reason(), podSpecPath, sa)
	}
	for _, v := range spec.Volumes {
		if !projectsToken(v) {
			continue
		}
		if allowed.token == nil || !equality.Semantic.DeepEqual(v, *allowed.token) {
			return fmt.Errorf("%w: %svolumes[%s] may not project a service account token", allowed.reason(), podSpecPath, v.Name)
		}
	}
	if allowed.token == nil {
		return nil
	}
	return checkTokenMounts(spec, allowed.token.Name)
}

func projectsToken(v corev1.Volume) bool {
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if s.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}

// checkTokenMounts refuses a mount of the token volume other than the caddy
// container's tokenMount.
func checkTokenMounts(spec *corev1.PodSpec, volume string) error {
	check := func(field, container string, mounts []corev1.VolumeMount) error {
		for _, m := range mounts {
			if m.Name == volume && (field != "containers" || container != CaddyContainer || !equality.Semantic.DeepEqual(m, tokenMount)) {
				return fmt.Errorf("%w: %s%s[%s] may not mount volume %s other than as the caddy container's %s",
					errStorageCredentials, podSpecPath, field, container, volume, ServiceAccountTokenDir)
			}
		}
		return nil
	}
	for _, c := range spec.Containers {
		if err := check("containers", c.Name, c.VolumeMounts); err != nil {
			return err
		}
	}
	for _, c := range spec.InitContainers {
		if err := check("initContainers", c.Name, c.VolumeMounts); err != nil {
			return err
		}
	}
	for _, c := range spec.EphemeralContainers {
		if err := check("ephemeralContainers", c.Name, c.VolumeMounts); err != nil {
			return err
		}
	}
	return nil
}

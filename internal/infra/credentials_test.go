package infra

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func acmeDeployment(t *testing.T, acme bool) (*appsv1.Deployment, credentials) {
	t.Helper()
	in := Input{Gateway: &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "infra"}}, ACME: acme}
	r, err := newRenderer(in)
	if err != nil {
		t.Fatal(err)
	}
	return r.workload().(*appsv1.Deployment), credentials{serviceAccount: r.names.Workload, token: r.tokenVolume()}
}

// The rendered pods pass the check, and the token is refused in every place but the one
// rendered, and everywhere without automatic certificates.
func TestCheckCredentials(t *testing.T) {
	mount := func(name string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.InitContainers = append(s.InitContainers, corev1.Container{Name: name, VolumeMounts: []corev1.VolumeMount{tokenMount}})
		}
	}
	tests := map[string]struct {
		acme   bool
		change func(*corev1.PodSpec)
		want   string // "" passes
	}{
		"rendered with acme":    {acme: true},
		"rendered without acme": {},
		"init container mounts the token": {acme: true, change: mount("init"),
			want: "initContainers[init] may not mount volume kube-api-access"},
		"ephemeral container mounts the token": {acme: true, change: func(s *corev1.PodSpec) {
			s.EphemeralContainers = append(s.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", VolumeMounts: []corev1.VolumeMount{tokenMount}}})
		}, want: "ephemeralContainers[debug] may not mount"},
		"caddy mounts it twice": {acme: true, change: func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = append(s.Containers[0].VolumeMounts, corev1.VolumeMount{Name: volToken, MountPath: "/tmp/t", ReadOnly: true})
		}, want: "containers[caddy] may not mount"},
		"token volume without acme": {change: func(s *corev1.PodSpec) {
			_, c := acmeDeployment(t, true)
			s.Volumes = append(s.Volumes, *c.token)
		}, want: "volumes[kube-api-access] may not project a service account token"},
		"token audience changed": {acme: true, change: func(s *corev1.PodSpec) {
			s.Volumes[len(s.Volumes)-1].Projected.Sources[0].ServiceAccountToken.Audience = "vault"
		}, want: "volumes[kube-api-access] may not project"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, allowed := acmeDeployment(t, tc.acme)
			if tc.change != nil {
				tc.change(&d.Spec.Template.Spec)
			}
			err := checkCredentials(d, allowed)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused the rendered pod: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, errCredentials) && !errors.Is(err, errStorageCredentials) {
				t.Fatalf("err = %v does not give the credentials reason", err)
			}
		})
	}
}

// Only the caddy container holds the token; the ServiceAccount still automounts none.
func TestACMETokenOnlyInCaddy(t *testing.T) {
	d, _ := acmeDeployment(t, true)
	for _, c := range d.Spec.Template.Spec.Containers {
		has := false
		for _, m := range c.VolumeMounts {
			has = has || m.Name == volToken
		}
		if has != (c.Name == CaddyContainer) {
			t.Errorf("container %s mounts the token: %v", c.Name, has)
		}
	}
	if a := d.Spec.Template.Spec.AutomountServiceAccountToken; a == nil || *a {
		t.Error("automountServiceAccountToken is not false")
	}
}

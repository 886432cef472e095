//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
)

// runProbe starts a probe pod (no labels any policy selects) that opens TCP connections
// to addrs, waits for it to finish and returns its report.
func runProbe(ctx context.Context, t *testing.T, cfg *envconf.Config, addrs ...string) string {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: envconf.RandomName("probe", 12), Namespace: cfg.Namespace()},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "probe", Image: probeImage, ImagePullPolicy: corev1.PullIfNotPresent, Args: addrs,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteAll(context.Background(), t, c, pod) })
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	var out string
	poll(ctx, t, "probe report", func(ctx context.Context) error {
		rc, err := cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{}).Stream(ctx)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		out = string(b)
		if !strings.Contains(out, "done") {
			return fmt.Errorf("probe not finished: %q", out)
		}
		return nil
	})
	return out
}

package controller_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/testports"
)

// TestGatewayPushesOnlyToItsWorkloadsPods plays the Deployment controller by hand (envtest
// runs none): a current and an older ReplicaSet of the Gateway's Deployment, one pod
// each, and two pods that copy the fleet's labels: one without an owner reference, one
// with a forged reference to the current ReplicaSet but another image. Only the
// ReplicaSets' pods are push targets (the Programmed condition counts and names them: the
// pushes fail, nothing listens at the admin port); each impostor gets one Warning Event.
func TestGatewayPushesOnlyToItsWorkloadsPods(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{AdminPort: &port}})
	dep := waitFor(t, f.workload(), &appsv1.Deployment{}, exists)

	current := newReplicaSet(t, dep, "current", "aaaa", nil)
	old := newReplicaSet(t, dep, "old", "bbbb", func(s *corev1.PodSpec) { s.Containers[0].Image = "caddy:previous" })
	pods := map[string]*corev1.Pod{
		"current":     fleetPod(current, "current", nil),
		"old":         fleetPod(old, "old", nil),
		"no-owner":    fleetPod(current, "no-owner", func(p *corev1.Pod) { p.OwnerReferences = nil }),
		"other-image": fleetPod(current, "other-image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "evil:latest" }),
	}
	for _, name := range []string{"current", "old", "no-owner", "other-image"} {
		startPod(t, pods[name])
	}

	f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwapiv1.GatewayConditionProgrammed))
		if c == nil || !strings.HasPrefix(c.Message, "0/2 pods programmed: ") ||
			!strings.Contains(c.Message, "pod "+pods["current"].Name+":") || !strings.Contains(c.Message, "pod "+pods["old"].Name+":") {
			return fmt.Errorf("Programmed is %+v, want 0/2 pods programmed with the errors of both ReplicaSets' pods", c)
		}
		return nil
	})
	wantRefused := map[string]string{
		pods["no-owner"].Name:    "it has no controller owner reference",
		pods["other-image"].Name: `container caddy runs image "evil:latest" instead of "caddy:test"`,
	}
	eventually(t, waitTimeout, func() error { return checkRefusedEvents(t, f, wantRefused) })

	// More reconciles (a pod changed) report nobody again.
	update(t, pods["no-owner"], func(p *corev1.Pod) { p.Annotations = map[string]string{"touched": "1"} })
	update(t, pods["current"], func(p *corev1.Pod) { p.Annotations = map[string]string{"touched": "1"} })
	consistently(t, quietPeriod, func() error { return checkRefusedEvents(t, f, wantRefused) })
}

// checkRefusedEvents checks that the Gateway has exactly one PodRefused Event per pod of
// want, never repeated, whose note names the pod and contains its reason.
func checkRefusedEvents(t *testing.T, f *fixture, want map[string]string) error {
	var events eventsv1.EventList
	if err := k8s.List(ctxFor(t), &events, client.InNamespace(f.ns)); err != nil {
		return err
	}
	seen := map[string]int{}
	for _, e := range events.Items {
		if e.Reason != "PodRefused" || e.Regarding.UID != f.gateway.UID {
			continue
		}
		if e.Type != corev1.EventTypeWarning || e.Series != nil || e.Related == nil || e.Related.Kind != "Pod" || !strings.HasPrefix(e.Note, "Pod "+e.Related.Name+" ") {
			return fmt.Errorf("event %q is of type %s, series %+v, related %+v", e.Note, e.Type, e.Series, e.Related)
		}
		matched := false
		for pod, reason := range want {
			if strings.HasPrefix(e.Note, "Pod "+pod+" receives no configuration: ") && strings.Contains(e.Note, reason) {
				seen[pod]++
				matched = true
			}
		}
		if !matched {
			return fmt.Errorf("unexpected PodRefused event %q", e.Note)
		}
	}
	for pod := range want {
		if seen[pod] != 1 {
			return fmt.Errorf("pod %s has %d PodRefused events, want 1 (seen %v)", pod, seen[pod], seen)
		}
	}
	return nil
}

// newReplicaSet creates a ReplicaSet controlled by dep, as the Deployment controller
// would, with dep's pod template changed by mutate.
func newReplicaSet(t *testing.T, dep *appsv1.Deployment, suffix, hash string, mutate func(*corev1.PodSpec)) *appsv1.ReplicaSet {
	t.Helper()
	tpl := dep.Spec.Template.DeepCopy()
	tpl.Labels = maps.Clone(tpl.Labels)
	tpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	if mutate != nil {
		mutate(&tpl.Spec)
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: dep.Namespace, Name: dep.Name + "-" + suffix, Labels: tpl.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: tpl.Labels}, Template: *tpl,
		},
	}
	create(t, rs)
	return rs
}

// fleetPod is a pod of rs, as the ReplicaSet controller would create it, changed by mutate.
func fleetPod(rs *appsv1.ReplicaSet, name string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: rs.Namespace, Name: "caddy-" + name, Labels: maps.Clone(rs.Spec.Template.Labels),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
		},
		Spec: *rs.Spec.Template.Spec.DeepCopy(),
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

// startPod creates p and sets its status as a kubelet would once both containers run and
// the admin-proxy is ready, on 127.0.0.1.
func startPod(t *testing.T, p *corev1.Pod) {
	t.Helper()
	create(t, p)
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: infra.CaddyContainer, State: running, Image: "caddy"},
			{Name: infra.AdminProxyContainer, State: running, Ready: true, Image: "operator"},
		},
	}
	if err := k8s.Status().Update(ctxFor(t), p); err != nil {
		t.Fatalf("setting the status of pod %s: %v", p.Name, err)
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int32 {
	t.Helper()
	return int32(testports.Port(t))
}

package controller

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

func TestFleetOwnersRefusal(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "operator:1"}},
		Containers: []corev1.Container{
			{Name: "caddy", Image: "caddy:1", Command: []string{"caddy"}, Args: []string{"run"}},
			{Name: "admin-proxy", Image: "operator:1", Args: []string{"admin-proxy"}},
		},
	}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy", UID: "dep"}}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy-abc", UID: "rs", Labels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"},
			OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", dep.Name, dep.UID)}},
		Spec: appsv1.ReplicaSetSpec{Template: template},
	}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "gw-caddy", UID: "ds"}, Spec: appsv1.DaemonSetSpec{Template: template}}
	deployment := fleetOwners{deployment: dep, replicaSets: map[types.UID]*appsv1.ReplicaSet{rs.UID: rs}}
	daemonSet := fleetOwners{daemonSet: ds}
	pod := func(ref metav1.OwnerReference, hash string, mutate func(*corev1.PodSpec)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{}, OwnerReferences: []metav1.OwnerReference{ref}},
			Spec: *template.Spec.DeepCopy()}
		if hash != "" {
			p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		}
		if mutate != nil {
			mutate(&p.Spec)
		}
		return p
	}
	previous := template.DeepCopy()
	previous.Spec.Containers[0].Image = "caddy:0"
	rolling := fleetOwners{daemonSet: ds, daemonSetRevisions: map[string]*corev1.PodTemplateSpec{"prev": previous, "cur": &template}}
	ofDS := controllerRef("DaemonSet", ds.Name, ds.UID)
	revision := func(hash string, mutate func(*corev1.PodSpec)) *corev1.Pod {
		p := pod(ofDS, "", mutate)
		p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
		return p
	}

	ofRS := controllerRef("ReplicaSet", rs.Name, rs.UID)
	tests := map[string]struct {
		owners fleetOwners
		pod    *corev1.Pod
		want   string // a part of the refusal; "" accepts
	}{
		"pod of the Deployment's ReplicaSet":       {owners: deployment, pod: pod(ofRS, "abc", nil)},
		"pod of the DaemonSet":                     {owners: daemonSet, pod: pod(controllerRef("DaemonSet", ds.Name, ds.UID), "", nil)},
		"admission's additions are not compared":   {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.Containers[0].ImagePullPolicy = corev1.PullAlways })},
		"no owner reference":                       {owners: deployment, pod: &corev1.Pod{}, want: "no controller owner reference"},
		"owner reference that is not a controller": {owners: deployment, pod: pod(metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID}, "abc", nil), want: "no controller owner reference"},
		"ReplicaSet of another Deployment":         {owners: deployment, pod: pod(controllerRef("ReplicaSet", rs.Name, "other"), "abc", nil), want: "is not one of the Gateway's Deployment"},
		"ReplicaSet's UID under another name":      {owners: deployment, pod: pod(controllerRef("ReplicaSet", "other", rs.UID), "abc", nil), want: "is not one of the Gateway's Deployment"},
		"pod-template-hash missing":                {owners: deployment, pod: pod(ofRS, "", nil), want: "pod-template-hash label is not that of ReplicaSet gw-caddy-abc"},
		"pod-template-hash of another ReplicaSet":  {owners: deployment, pod: pod(ofRS, "def", nil), want: "pod-template-hash label"},
		"another image":                            {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.Containers[0].Image = "evil:1" }), want: `container caddy runs image "evil:1" instead of "caddy:1"`},
		"another command":                          {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.Containers[0].Command = []string{"sh"} }), want: "container caddy has another command"},
		"other args":                               {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.Containers[1].Args = nil }), want: "container admin-proxy has other args"},
		"an extra container": {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "reader", Image: "busybox"})
		}), want: "containers differ from the pod template of ReplicaSet gw-caddy-abc: 3 instead of 2"},
		"containers renamed":                     {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.Containers[1].Name = "x" }), want: `container 1 is "x" instead of "admin-proxy"`},
		"another init container":                 {owners: deployment, pod: pod(ofRS, "abc", func(s *corev1.PodSpec) { s.InitContainers[0].Image = "evil:1" }), want: "init containers differ"},
		"another DaemonSet":                      {owners: daemonSet, pod: pod(controllerRef("DaemonSet", ds.Name, "other"), "", nil), want: "DaemonSet gw-caddy (uid other) is not the Gateway's"},
		"DaemonSet pod, no such":                 {owners: deployment, pod: pod(controllerRef("DaemonSet", ds.Name, ds.UID), "", nil), want: "is not the Gateway's"},
		"DaemonSet other image":                  {owners: daemonSet, pod: pod(controllerRef("DaemonSet", ds.Name, ds.UID), "", func(s *corev1.PodSpec) { s.Containers[0].Image = "evil:1" }), want: "pod template of DaemonSet gw-caddy"},
		"controlled by a Job":                    {owners: deployment, pod: pod(metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "j", UID: "j", Controller: ptrTo(true)}, "", nil), want: "its controller Job j is not the Gateway's workload"},
		"DaemonSet pod of the current revision":  {owners: rolling, pod: revision("cur", nil)},
		"DaemonSet pod of the previous revision": {owners: rolling, pod: revision("prev", func(s *corev1.PodSpec) { s.Containers[0].Image = "caddy:0" })},
		"previous revision named, current image": {owners: rolling, pod: revision("prev", nil), want: `pod template of DaemonSet gw-caddy revision prev: container caddy runs image "caddy:1" instead of "caddy:0"`},
		"unknown revision, the previous image":   {owners: rolling, pod: revision("forged", func(s *corev1.PodSpec) { s.Containers[0].Image = "caddy:0" }), want: `pod template of DaemonSet gw-caddy: container caddy`},
		"ReplicaSet of other API":                {owners: deployment, pod: pod(metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptrTo(true)}, "abc", nil), want: "is not the Gateway's workload"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.owners.refusal(tc.pod)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("refusal = %q, want %q", got, tc.want)
			}
		})
	}
}

func controllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptrTo(true)}
}

func ptrTo[T any](v T) *T { return &v }

// TestRevisionTemplate decodes a ControllerRevision the way the DaemonSet controller
// writes it (getPatch in pkg/controller/daemon/update.go).
func TestRevisionTemplate(t *testing.T) {
	want := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "caddy"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "caddy", Image: "caddy:1", Args: []string{"run"}}}},
	}
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	tpl["$patch"] = "replace"
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": tpl}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := revisionTemplate(&appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: data}})
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, &want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := revisionTemplate(&appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}}); err == nil || !strings.Contains(err.Error(), "ControllerRevision r records no pod template") {
		t.Fatalf("a revision without a template: %v", err)
	}
}

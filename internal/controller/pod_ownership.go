package controller

import (
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// fleetOwners are the Gateway's own workloads, the only owners whose pods receive its
// configurations (which hold the private keys of its listener certificates). Labels
// prove nothing: whoever may create pods in the namespace can copy them.
type fleetOwners struct {
	// deployment is the Gateway's Deployment, nil when it has none.
	deployment *appsv1.Deployment
	// replicaSets are the deployment's ReplicaSets by UID, the current one and those
	// still scaling down in a rollout.
	replicaSets map[types.UID]*appsv1.ReplicaSet
	// daemonSet is the Gateway's DaemonSet, nil when it has none.
	daemonSet *appsv1.DaemonSet
	// daemonSetRevisions are the pod templates of the daemonSet's revisions by their
	// controller-revision-hash: the current one and those whose pods a rolling update has
	// not replaced yet.
	daemonSetRevisions map[string]*corev1.PodTemplateSpec
}

// refusal says why pod is not one of the fleet's pods, or "" when it is: its controller
// owner reference leads to the Gateway's Deployment (through one of its ReplicaSets, whose
// pod-template-hash it carries) or DaemonSet, and its containers are those of that
// owner's pod template (for a DaemonSet, the template of the revision its
// controller-revision-hash names, else the current one). Owner references can be forged
// by whoever creates the pod, hence the comparison with the template.
func (o fleetOwners) refusal(pod *corev1.Pod) string {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return "it has no controller owner reference"
	}
	switch {
	case ref.APIVersion == appsv1.SchemeGroupVersion.String() && ref.Kind == "ReplicaSet":
		rs := o.replicaSets[ref.UID]
		if rs == nil || rs.Name != ref.Name {
			return fmt.Sprintf("its controller ReplicaSet %s (uid %s) is not one of the Gateway's Deployment", ref.Name, ref.UID)
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		if hash == "" || pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
			return fmt.Sprintf("its %s label is not that of ReplicaSet %s", appsv1.DefaultDeploymentUniqueLabelKey, rs.Name)
		}
		return templateMismatch(&rs.Spec.Template.Spec, &pod.Spec, "ReplicaSet "+rs.Name)
	case ref.APIVersion == appsv1.SchemeGroupVersion.String() && ref.Kind == "DaemonSet":
		ds := o.daemonSet
		if ds == nil || ds.UID != ref.UID || ds.Name != ref.Name {
			return fmt.Sprintf("its controller DaemonSet %s (uid %s) is not the Gateway's", ref.Name, ref.UID)
		}
		template, owner := &ds.Spec.Template, "DaemonSet "+ds.Name
		if rev := o.daemonSetRevisions[pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]]; rev != nil {
			template, owner = rev, owner+" revision "+pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
		}
		return templateMismatch(&template.Spec, &pod.Spec, owner)
	}
	return fmt.Sprintf("its controller %s %s is not the Gateway's workload", ref.Kind, ref.Name)
}

// templateMismatch says how the pod's containers and init containers differ from the
// template's in name, image, command or args, or "" when they do not. Fields admission
// fills in (pull policy, mounts of the ServiceAccount token) are not compared.
func templateMismatch(template, pod *corev1.PodSpec, owner string) string {
	if msg := containersMismatch(template.InitContainers, pod.InitContainers); msg != "" {
		return fmt.Sprintf("its init containers differ from the pod template of %s: %s", owner, msg)
	}
	if msg := containersMismatch(template.Containers, pod.Containers); msg != "" {
		return fmt.Sprintf("its containers differ from the pod template of %s: %s", owner, msg)
	}
	return ""
}

// revisionTemplate is the pod template a DaemonSet's ControllerRevision records: its data
// is the patch {"spec":{"template":{…,"$patch":"replace"}}}.
func revisionTemplate(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var patch struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("decoding the pod template of ControllerRevision %s: %w", rev.Name, err)
	}
	if patch.Spec.Template == nil {
		return nil, fmt.Errorf("ControllerRevision %s records no pod template", rev.Name)
	}
	return patch.Spec.Template, nil
}

func containersMismatch(want, got []corev1.Container) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d instead of %d", len(got), len(want))
	}
	for i := range want {
		w, g := &want[i], &got[i]
		switch {
		case w.Name != g.Name:
			return fmt.Sprintf("container %d is %q instead of %q", i, g.Name, w.Name)
		case w.Image != g.Image:
			return fmt.Sprintf("container %s runs image %q instead of %q", g.Name, g.Image, w.Image)
		case !slices.Equal(w.Command, g.Command):
			return fmt.Sprintf("container %s has another command", g.Name)
		case !slices.Equal(w.Args, g.Args):
			return fmt.Sprintf("container %s has other args", g.Name)
		}
	}
	return ""
}

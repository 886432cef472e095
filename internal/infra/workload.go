package infra

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// defaultCPUUtilization is the autoscaling target when no metrics are given.
const defaultCPUUtilization int32 = 80

func (r *renderer) selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: SelectorLabels(r.gw.Name)}
}

func (r *renderer) workload() client.Object {
	if r.isDaemonSet() {
		strategy := appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
		}
		if r.wl.UpdateStrategy != nil {
			strategy = *r.wl.UpdateStrategy
		}
		return &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: r.meta(r.names.Workload, nil, nil),
			Spec: appsv1.DaemonSetSpec{
				Selector:       r.selector(),
				Template:       r.podTemplate(),
				UpdateStrategy: strategy,
			},
		}
	}
	// Zero unavailable, one surge: a new pod is Ready only once it received its config.
	strategy := appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			MaxSurge:       ptr.To(intstr.FromInt32(1)),
		},
	}
	if r.wl.Strategy != nil {
		strategy = *r.wl.Strategy
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: r.meta(r.names.Workload, nil, nil),
		Spec: appsv1.DeploymentSpec{
			Selector: r.selector(),
			Template: r.podTemplate(),
			Strategy: strategy,
		},
	}
	// With an autoscaler, replicas are left to it: server-side apply would fight it.
	if r.wl.Autoscaling == nil {
		d.Spec.Replicas = ptr.To(DefaultReplicas)
		if r.wl.Replicas != nil {
			d.Spec.Replicas = ptr.To(*r.wl.Replicas)
		}
	}
	return d
}

func (r *renderer) hpa() client.Object {
	a := r.wl.Autoscaling
	if a == nil || r.isDaemonSet() {
		return nil
	}
	minReplicas := int32(1)
	if a.MinReplicas != nil {
		minReplicas = *a.MinReplicas
	}
	metrics := a.Metrics
	if len(metrics) == 0 {
		metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(defaultCPUUtilization)},
			},
		}}
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: r.meta(r.names.Workload, nil, nil),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1", Kind: "Deployment", Name: r.names.Workload},
			MinReplicas: ptr.To(minReplicas),
			MaxReplicas: a.MaxReplicas,
			Metrics:     metrics,
			Behavior:    a.Behavior,
		},
	}
}

func (r *renderer) pdb() client.Object {
	p := r.wl.PodDisruptionBudget
	if p == nil {
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: r.meta(r.names.Workload, nil, nil),
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:                   r.selector(),
			MinAvailable:               p.MinAvailable,
			MaxUnavailable:             p.MaxUnavailable,
			UnhealthyPodEvictionPolicy: p.UnhealthyPodEvictionPolicy,
		},
	}
}

package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/infra"
)

// CacheScope limits the manager's cache of kinds the operator only creates to the objects
// it labelled, so that it does not hold every Secret or Deployment of the cluster in
// memory. Pass it as cache.Options.ByObject. Reads of these kinds through the manager's
// client see only the fleet's objects: the reconcilers never need others.
func CacheScope() map[client.Object]cache.ByObject {
	own := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{infra.LabelManagedBy: infra.ManagedByValue})}
	return map[client.Object]cache.ByObject{
		&corev1.Secret{}: own, &corev1.ConfigMap{}: own, &corev1.ServiceAccount{}: own,
		&appsv1.Deployment{}: own, &appsv1.DaemonSet{}: own, &networkingv1.NetworkPolicy{}: own,
		&autoscalingv2.HorizontalPodAutoscaler{}: own, &policyv1.PodDisruptionBudget{}: own,
		&corev1.Pod{}: own,
	}
}

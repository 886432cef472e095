package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// pushTargets lists the Gateway's Caddy pods that its own workload owns (fleetOwners),
// that are running and whose admin-proxy is ready. A pod with the fleet's labels that the
// workload does not own receives nothing; each such pod is reported once, by a Warning
// Event on the Gateway and a log line. A pod's key changes when its caddy container
// restarts, so a restarted Caddy is configured again.
func (r *GatewayReconciler) pushTargets(ctx context.Context, gw *gwapiv1.Gateway) ([]pusher.Target, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(gw.Namespace), client.MatchingLabels(infra.SelectorLabels(gw.Name))); err != nil {
		return nil, fmt.Errorf("listing the Caddy pods of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	owners, err := r.fleetOwners(ctx, gw, pods.Items)
	if err != nil {
		return nil, err
	}
	var targets []pusher.Target
	refused := map[types.UID]refusedPod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if reason := owners.refusal(p); reason != "" {
			refused[p.UID] = refusedPod{uid: p.UID, name: p.Name, reason: reason}
			continue
		}
		if t, ok := podTarget(p); ok {
			targets = append(targets, t)
		}
	}
	r.reportRefused(ctx, gw, refused)
	return targets, nil
}

// podTarget is the push target of a pod that is running, whose caddy container runs and
// whose admin-proxy is ready.
func podTarget(p *corev1.Pod) (pusher.Target, bool) {
	if !p.DeletionTimestamp.IsZero() || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
		return pusher.Target{}, false
	}
	var proxyReady bool
	var restarts int32 = -1
	for _, cs := range p.Status.ContainerStatuses {
		switch cs.Name {
		case infra.AdminProxyContainer:
			proxyReady = cs.Ready
		case infra.CaddyContainer:
			if cs.State.Running != nil {
				restarts = cs.RestartCount
			}
		}
	}
	if !proxyReady || restarts < 0 {
		return pusher.Target{}, false
	}
	return pusher.Target{Key: string(p.UID) + "/" + strconv.Itoa(int(restarts)), Name: p.Name, IP: p.Status.PodIP}, true
}

// fleetOwners reads the Gateway's Deployment and DaemonSet (those the Gateway controls)
// and the Deployment's ReplicaSets. A ReplicaSet a pod names that the cache has not seen
// yet (it was just created) is read from the API server, so that a new pod of a rollout
// is not refused.
func (r *GatewayReconciler) fleetOwners(ctx context.Context, gw *gwapiv1.Gateway, pods []corev1.Pod) (fleetOwners, error) {
	key := client.ObjectKey{Namespace: gw.Namespace, Name: infra.NamesFor(gw.Name).Workload}
	var o fleetOwners
	var dep appsv1.Deployment
	if err := r.Get(ctx, key, &dep); client.IgnoreNotFound(err) != nil {
		return o, fmt.Errorf("reading the Deployment of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	} else if err == nil && controlledBy(&dep, gw.UID) {
		o.deployment = &dep
	}
	var ds appsv1.DaemonSet
	if err := r.Get(ctx, key, &ds); client.IgnoreNotFound(err) != nil {
		return o, fmt.Errorf("reading the DaemonSet of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	} else if err == nil && controlledBy(&ds, gw.UID) {
		o.daemonSet = &ds
		if err := r.daemonSetRevisions(ctx, gw, &o); err != nil {
			return o, err
		}
	}
	if o.deployment == nil {
		return o, nil
	}
	var list appsv1.ReplicaSetList
	if err := r.List(ctx, &list, client.InNamespace(gw.Namespace), client.MatchingLabels(infra.SelectorLabels(gw.Name))); err != nil {
		return o, fmt.Errorf("listing the ReplicaSets of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	o.replicaSets = map[types.UID]*appsv1.ReplicaSet{}
	for i := range list.Items {
		o.addReplicaSet(&list.Items[i])
	}
	for i := range pods {
		ref := metav1.GetControllerOf(&pods[i])
		if ref == nil || ref.APIVersion != appsv1.SchemeGroupVersion.String() || ref.Kind != "ReplicaSet" || o.replicaSets[ref.UID] != nil {
			continue
		}
		var rs appsv1.ReplicaSet
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: ref.Name}, &rs); client.IgnoreNotFound(err) != nil {
			return o, fmt.Errorf("reading ReplicaSet %s/%s: %w", gw.Namespace, ref.Name, err)
		} else if err == nil {
			o.addReplicaSet(&rs)
		}
	}
	return o, nil
}

// daemonSetRevisions reads the pod templates of the revisions of o.daemonSet. A revision
// whose template cannot be decoded is left out: its pods are compared with the current
// template.
func (r *GatewayReconciler) daemonSetRevisions(ctx context.Context, gw *gwapiv1.Gateway, o *fleetOwners) error {
	var list appsv1.ControllerRevisionList
	if err := r.List(ctx, &list, client.InNamespace(gw.Namespace), client.MatchingLabels(infra.SelectorLabels(gw.Name))); err != nil {
		return fmt.Errorf("listing the ControllerRevisions of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	o.daemonSetRevisions = map[string]*corev1.PodTemplateSpec{}
	for i := range list.Items {
		rev := &list.Items[i]
		hash := rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
		if hash == "" || !controlledBy(rev, o.daemonSet.UID) {
			continue
		}
		tpl, err := revisionTemplate(rev)
		if err != nil {
			ctrl.LoggerFrom(ctx).V(1).Info("Ignoring a DaemonSet revision", "controllerRevision", rev.Name, "error", err.Error())
			continue
		}
		o.daemonSetRevisions[hash] = tpl
	}
	return nil
}

// addReplicaSet keeps rs when the deployment controls it.
func (o *fleetOwners) addReplicaSet(rs *appsv1.ReplicaSet) {
	if controlledBy(rs, o.deployment.UID) {
		o.replicaSets[rs.UID] = rs
	}
}

// controlledBy reports whether obj's controller owner reference has the given UID.
func controlledBy(obj metav1.Object, uid types.UID) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == uid
}

// reportRefused reports the pods refused as push targets that were not refused at the
// Gateway's previous listing: a Warning Event on the Gateway and a log line each.
func (r *GatewayReconciler) reportRefused(ctx context.Context, gw *gwapiv1.Gateway, refused map[types.UID]refusedPod) {
	for _, p := range r.refused.update(client.ObjectKeyFromObject(gw), refused) {
		ctrl.LoggerFrom(ctx).Info("Refusing to configure a pod the Gateway's workload does not own", "pod", p.name, "reason", p.reason)
		// The pod is the related object: Events of the same regarding object, reason and
		// action would otherwise be merged into one series, whatever their notes.
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: p.name, UID: p.uid}}
		r.Recorder.Eventf(gw, pod, corev1.EventTypeWarning, "PodRefused", "Push",
			"Pod %s receives no configuration: %s", p.name, p.reason)
	}
}

// refusedPod is a pod refused as push target, and why.
type refusedPod struct {
	uid          types.UID
	name, reason string
}

// refusedPods remembers, per Gateway, the pods refused as push targets by UID, so that
// each is reported once.
type refusedPods struct {
	mu        sync.Mutex
	byGateway map[types.NamespacedName]map[types.UID]refusedPod
}

// update replaces the Gateway's refused pods with now and returns the pods that were not
// refused before, sorted by name.
func (r *refusedPods) update(gw types.NamespacedName, now map[types.UID]refusedPod) []refusedPod {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byGateway == nil {
		r.byGateway = map[types.NamespacedName]map[types.UID]refusedPod{}
	}
	before := r.byGateway[gw]
	var fresh []refusedPod
	for uid, p := range now {
		if _, ok := before[uid]; !ok {
			fresh = append(fresh, p)
		}
	}
	if len(now) == 0 {
		delete(r.byGateway, gw)
	} else {
		r.byGateway[gw] = now
	}
	slices.SortFunc(fresh, func(a, b refusedPod) int { return strings.Compare(a.name, b.name) })
	return fresh
}

// forget drops what is remembered of a deleted Gateway.
func (r *refusedPods) forget(gw types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byGateway, gw)
}

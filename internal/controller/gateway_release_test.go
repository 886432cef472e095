package controller_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
)

// TestGatewayMovedToAnotherClass shows a Gateway switched to a class of another
// controller losing its fleet, its admin certificate Secrets, the status this operator
// wrote and the route entries of ours; a status the other controller then writes stays;
// and switching back provisions it again.
func TestGatewayMovedToAnotherClass(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	_, routeKey := acceptedRoute(t, f)
	names, certNames := infra.NamesFor(f.gateway.Name), f.admin()
	kinds := []func() client.Object{
		func() client.Object { return &corev1.ServiceAccount{} }, func() client.Object { return &appsv1.Deployment{} },
		func() client.Object { return &corev1.Service{} }, func() client.Object { return &networkingv1.NetworkPolicy{} },
	}
	type object struct {
		key    client.ObjectKey
		newObj func() client.Object
	}
	objects := []object{{f.key(names.Bootstrap), func() client.Object { return &corev1.ConfigMap{} }}}
	for _, k := range kinds {
		objects = append(objects, object{f.workload(), k})
	}
	// The admin Secrets in the operator's namespace, and the server copy in the Gateway's.
	for _, name := range []string{certNames.CA, certNames.Server, certNames.Client, certNames.Trust} {
		objects = append(objects, object{adminKey(name), func() client.Object { return &corev1.Secret{} }})
	}
	objects = append(objects, object{f.key(certs.ServerSecret(f.gateway.Name)), func() client.Object { return &corev1.Secret{} }})
	for _, o := range objects {
		waitFor(t, o.key, o.newObj(), exists)
	}
	f.waitGateway(t, func(g *gwapiv1.Gateway) error {
		if meta.FindStatusCondition(g.Status.Conditions, status.ConditionAdminCertificates) == nil || len(g.Status.Listeners) == 0 {
			return fmt.Errorf("status not written yet: %+v", g.Status)
		}
		return nil
	})

	other := uniqueName(t, "other")
	create(t, newClass(other, "example.com/another-controller", nil))
	update(t, f.gateway, func(g *gwapiv1.Gateway) { g.Spec.GatewayClassName = gwapiv1.ObjectName(other) })

	for _, o := range objects {
		waitGone(t, o.key, o.newObj())
	}
	moved := f.waitGateway(t, func(g *gwapiv1.Gateway) error {
		// With no conditions left, the API server sets the CRD's default ones: Accepted and
		// Programmed Unknown, Pending.
		for _, typ := range []string{string(gwapiv1.GatewayConditionAccepted), string(gwapiv1.GatewayConditionProgrammed)} {
			if c := meta.FindStatusCondition(g.Status.Conditions, typ); c != nil &&
				(c.Status != metav1.ConditionUnknown || c.Reason != string(gwapiv1.GatewayReasonPending)) {
				return fmt.Errorf("condition %s is still ours: %+v", typ, c)
			}
		}
		if c := meta.FindStatusCondition(g.Status.Conditions, status.ConditionAdminCertificates); c != nil {
			return fmt.Errorf("condition %s is still set: %+v", c.Type, c)
		}
		if len(g.Status.Listeners) != 0 || len(g.Status.Addresses) != 0 {
			return fmt.Errorf("listeners %+v and addresses %+v are still set", g.Status.Listeners, g.Status.Addresses)
		}
		return nil
	})
	waitFor(t, routeKey, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		for _, p := range r.Status.Parents {
			if p.ControllerName == controllerName {
				return fmt.Errorf("entry of ours left: %+v", p)
			}
		}
		return nil
	})

	// The other controller's status is its own, and so is what another instance of this
	// operator (another controllerName) creates for the Gateway: the operator leaves both
	// alone.
	moved.SetGroupVersionKind(schema.GroupVersionKind{Group: gwapiv1.GroupVersion.Group, Version: gwapiv1.GroupVersion.Version, Kind: "Gateway"})
	takenOver := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: f.ns, Name: names.Bootstrap,
		Labels:          map[string]string{infra.LabelManagedBy: infra.ManagedByValue, infra.LabelName: infra.NameValue, infra.LabelGatewayName: f.gateway.Name},
		Annotations:     map[string]string{controller.AnnotationControllerName: "example.com/another-instance"},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(moved, moved.GroupVersionKind())},
	}}
	if err := k8s.Create(ctxFor(t), takenOver); err != nil {
		t.Fatal(err)
	}
	theirs := metav1.Condition{Type: string(gwapiv1.GatewayConditionAccepted), Status: metav1.ConditionTrue,
		Reason: "Accepted", Message: "accepted by the other controller", ObservedGeneration: moved.Generation,
		LastTransitionTime: metav1.Now()}
	before := moved.DeepCopy()
	meta.SetStatusCondition(&moved.Status.Conditions, theirs)
	if err := k8s.Status().Patch(ctxFor(t), moved, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	consistently(t, quietPeriod, func() error {
		var g gwapiv1.Gateway
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(f.gateway), &g); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(g.Status.Conditions, theirs.Type); c == nil || c.Message != theirs.Message {
			return fmt.Errorf("the other controller's Accepted condition is now %+v", c)
		}
		return k8s.Get(ctxFor(t), client.ObjectKeyFromObject(takenOver), &corev1.ConfigMap{})
	})

	update(t, f.gateway, func(g *gwapiv1.Gateway) { g.Spec.GatewayClassName = gwapiv1.ObjectName(f.class) })
	f.waitGateway(t, gatewayAcceptedIs(gatewayAccepted))
	for _, o := range objects {
		waitFor(t, o.key, o.newObj(), func(obj client.Object) error {
			if obj.GetNamespace() == operatorNS {
				return checkAdminMeta(obj, f.gateway)
			}
			return checkFleetMeta(obj, f.gateway)
		})
	}
	waitFor(t, routeKey, &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})
}

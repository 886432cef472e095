package controller_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
)

// TestGatewayPrunesWhatIsNoLongerDesired switches the workload kind and toggles the
// autoscaler and the disruption budget: what the parameters no longer ask for is deleted.
func TestGatewayPrunesWhatIsNoLongerDesired(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	waitFor(t, f.workload(), &appsv1.Deployment{}, exists)

	daemonSet := v1alpha1.WorkloadDaemonSet
	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Workload = &v1alpha1.WorkloadSpec{Kind: &daemonSet}
	})
	ds := waitFor(t, f.workload(), &appsv1.DaemonSet{}, func(d *appsv1.DaemonSet) error { return checkFleetMeta(d, f.gateway) })
	waitGone(t, f.workload(), &appsv1.Deployment{})

	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Workload = &v1alpha1.WorkloadSpec{
			Autoscaling:         &v1alpha1.AutoscalingSpec{MaxReplicas: 5},
			PodDisruptionBudget: &v1alpha1.PodDisruptionBudgetSpec{MaxUnavailable: ptrTo(intstr.FromInt32(1))},
		}
	})
	waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error { return checkFleetMeta(d, f.gateway) })
	waitGone(t, client.ObjectKeyFromObject(ds), &appsv1.DaemonSet{})
	waitFor(t, f.workload(), &autoscalingv2.HorizontalPodAutoscaler{}, func(h *autoscalingv2.HorizontalPodAutoscaler) error {
		if h.Spec.MaxReplicas != 5 || h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != f.workload().Name {
			return fmt.Errorf("HPA spec is %+v, want max 5 replicas of Deployment %s", h.Spec, f.workload().Name)
		}
		return checkFleetMeta(h, f.gateway)
	})
	waitFor(t, f.workload(), &policyv1.PodDisruptionBudget{}, func(p *policyv1.PodDisruptionBudget) error {
		if p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 {
			return fmt.Errorf("PDB maxUnavailable is %v, want 1", p.Spec.MaxUnavailable)
		}
		return checkFleetMeta(p, f.gateway)
	})

	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) { c.Spec.Workload = nil })
	waitGone(t, f.workload(), &autoscalingv2.HorizontalPodAutoscaler{})
	waitGone(t, f.workload(), &policyv1.PodDisruptionBudget{})
	// The Deployment takes its replicas back from the autoscaler.
	waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != infra.DefaultReplicas {
			return fmt.Errorf("Deployment replicas are %v, want %d", d.Spec.Replicas, infra.DefaultReplicas)
		}
		return nil
	})
}

// TestGatewayLevelParameters shows the Gateway's own CaddyProxyConfig overriding the
// class's field by field, and spec.infrastructure labels and annotations on every object.
func TestGatewayLevelParameters(t *testing.T) {
	t.Parallel()
	nodePort, clusterIP := corev1.ServiceTypeNodePort, corev1.ServiceTypeClusterIP
	class := v1alpha1.CaddyProxyConfigSpec{
		Workload: &v1alpha1.WorkloadSpec{Replicas: ptrTo[int32](2)},
		Service: &v1alpha1.ServiceSpec{Type: &nodePort,
			Annotations: map[string]string{"example.com/class": "c", "example.com/both": "class"}},
	}
	labels := map[string]string{"example.com/team": "blue"}
	annotations := map[string]string{"example.com/owner": "alice"}
	// The Gateway's parameters are created before the Gateway, so it is accepted at once.
	ns := newNamespace(t)
	create(t, newCPC(ns, "gateway-params", v1alpha1.CaddyProxyConfigSpec{
		Workload: &v1alpha1.WorkloadSpec{Replicas: ptrTo[int32](3)},
		Service: &v1alpha1.ServiceSpec{Type: &clusterIP,
			Annotations: map[string]string{"example.com/gateway": "g", "example.com/both": "gateway"}},
	}))
	f := newFixtureIn(t, ns, class, withGatewayParams("gateway-params"), withInfrastructureMeta(labels, annotations))

	waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
			return fmt.Errorf("Deployment replicas are %v, want 3", d.Spec.Replicas)
		}
		if err := hasAll("pod template labels", d.Spec.Template.Labels, labels); err != nil {
			return err
		}
		return hasAll("pod template annotations", d.Spec.Template.Annotations, annotations)
	})
	waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
		if s.Spec.Type != clusterIP {
			return fmt.Errorf("Service type is %s, want %s", s.Spec.Type, clusterIP)
		}
		return hasAll("Service annotations", s.Annotations, map[string]string{
			"example.com/class": "c", "example.com/gateway": "g", "example.com/both": "gateway"})
	})
	objs := []struct {
		key client.ObjectKey
		obj client.Object
	}{
		{f.workload(), &corev1.ServiceAccount{}}, {f.key(infra.NamesFor(f.gateway.Name).Bootstrap), &corev1.ConfigMap{}},
		{f.workload(), &appsv1.Deployment{}}, {f.workload(), &corev1.Service{}}, {f.workload(), &networkingv1.NetworkPolicy{}},
	}
	for _, o := range objs {
		waitFor(t, o.key, o.obj, func(o client.Object) error {
			if err := hasAll(fmt.Sprintf("%T labels", o), o.GetLabels(), labels); err != nil {
				return err
			}
			return hasAll(fmt.Sprintf("%T annotations", o), o.GetAnnotations(), annotations)
		})
	}
}

// TestGatewayInvalidParametersKeepFleet breaks a provisioned Gateway's parameters in
// several ways: each is reported on the Gateway, and the fleet stays as it was.
func TestGatewayInvalidParametersKeepFleet(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// breaks makes the fixture's parameters unusable.
		breaks  func(t *testing.T, f *fixture)
		message func(f *fixture) string
	}{
		"Gateway parametersRef to a missing CaddyProxyConfig": {
			breaks: func(t *testing.T, f *fixture) {
				update(t, f.gateway, func(g *gwapiv1.Gateway) { withGatewayParams("missing")(g) })
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("spec.infrastructure.parametersRef: CaddyProxyConfig %s/missing not found", f.ns)
			},
		},
		"class CaddyProxyConfig with admin port equal to metrics port": {
			breaks: func(t *testing.T, f *fixture) {
				update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) { c.Spec = conflictingPorts() })
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("GatewayClass %s spec.parametersRef: CaddyProxyConfig %s/params is invalid: %s", f.class, f.ns, portsMessage)
			},
		},
		"class CaddyProxyConfig deleted": {
			breaks: func(t *testing.T, f *fixture) {
				if err := k8s.Delete(ctxFor(t), f.params); err != nil {
					t.Fatal(err)
				}
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("GatewayClass %s spec.parametersRef: CaddyProxyConfig %s/params not found", f.class, f.ns)
			},
		},
		"class CaddyProxyConfig turns on hostNetwork": {
			breaks: func(t *testing.T, f *fixture) {
				update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
					c.Spec.Workload = &v1alpha1.WorkloadSpec{Pod: &v1alpha1.PodSpec{HostNetwork: ptr.To(true)}}
				})
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("GatewayClass %s spec.parametersRef: CaddyProxyConfig %s/params is invalid: "+
					"spec.workload.pod.hostNetwork: Forbidden: NetworkPolicies do not apply to hostNetwork pods, "+
					"so the admin port would be reachable by anything that reaches the node", f.class, f.ns)
			},
		},
		"Gateway overrides an image the class locks": {
			breaks: func(t *testing.T, f *fixture) {
				create(t, newCPC(f.ns, "override", v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{
					Caddy: &v1alpha1.CaddyContainerSpec{Image: ptr.To("example.com/other-caddy:1")}}}))
				update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
					c.Spec.GatewayOverrides = &v1alpha1.GatewayOverridesSpec{Forbidden: []v1alpha1.OverrideGroup{v1alpha1.OverrideImages}}
				})
				update(t, f.gateway, func(g *gwapiv1.Gateway) { withGatewayParams("override")(g) })
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("spec.infrastructure.parametersRef: CaddyProxyConfig %s/override: spec.workload.caddy.image: "+
					"Forbidden: the GatewayClass's CaddyProxyConfig forbids Gateway-level overrides of Images "+
					"(spec.gatewayOverrides.forbidden)", f.ns)
			},
		},
		"Gateway CaddyProxyConfig sets gatewayOverrides": {
			breaks: func(t *testing.T, f *fixture) {
				create(t, newCPC(f.ns, "unlock", v1alpha1.CaddyProxyConfigSpec{GatewayOverrides: &v1alpha1.GatewayOverridesSpec{}}))
				update(t, f.gateway, func(g *gwapiv1.Gateway) { withGatewayParams("unlock")(g) })
			},
			message: func(f *fixture) string {
				return fmt.Sprintf("spec.infrastructure.parametersRef: CaddyProxyConfig %s/unlock: spec.gatewayOverrides: "+
					"Forbidden: only the GatewayClass's CaddyProxyConfig may set it", f.ns)
			},
		},
		"listener on the admin port": {
			breaks: func(t *testing.T, f *fixture) {
				update(t, f.gateway, func(g *gwapiv1.Gateway) {
					g.Spec.Listeners = append(g.Spec.Listeners,
						gwapiv1.Listener{Name: "admin", Protocol: gwapiv1.HTTPProtocolType, Port: 2021})
				})
			},
			message: func(*fixture) string { return "listener port 2021 collides with the admin port" },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
			before := waitFor(t, f.workload(), &appsv1.Deployment{}, exists)
			waitFor(t, f.workload(), &corev1.Service{}, exists)

			tc.breaks(t, f)
			f.waitGateway(t, gatewayAcceptedIs(gatewayInvalidParameters(tc.message(f))))
			// Every condition speaks of the current generation: Programmed says it is not.
			f.waitGateway(t, func(gw *gwapiv1.Gateway) error {
				return checkCondition(gw.Status.Conditions, string(gwapiv1.GatewayConditionProgrammed), gw.Generation,
					wantCondition{metav1.ConditionFalse, string(gwapiv1.GatewayReasonInvalid),
						"the parameters are invalid (see Accepted); the last good configuration keeps serving"})
			})
			// The fleet as the refusal found it: a reconcile of the still valid parameters
			// (a step of breaks before the last) may have finished it after it first
			// existed. From the refusal on, nothing writes it.
			good := waitFor(t, f.workload(), &appsv1.Deployment{}, exists)
			goodSvc := waitFor(t, f.workload(), &corev1.Service{}, exists)
			if !equality.Semantic.DeepEqual(good.Spec.Template.Spec, before.Spec.Template.Spec) {
				t.Fatalf("the refused parameters reached the pods: %+v, was %+v", good.Spec.Template.Spec, before.Spec.Template.Spec)
			}
			consistently(t, quietPeriod, func() error {
				for _, want := range []client.Object{good, goodSvc} {
					got := want.DeepCopyObject().(client.Object)
					if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(want), got); err != nil {
						return fmt.Errorf("the last good %T is gone: %w", want, err)
					}
					if got.GetResourceVersion() != want.GetResourceVersion() {
						return fmt.Errorf("%T %s changed: resourceVersion %s -> %s", want, want.GetName(),
							want.GetResourceVersion(), got.GetResourceVersion())
					}
				}
				return nil
			})
		})
	}
}

// TestGatewayRecreatesOnImmutableChange changes the Service's loadBalancerClass, which
// Kubernetes refuses to update: the Service is recreated, with an Event on the Gateway.
func TestGatewayRecreatesOnImmutableChange(t *testing.T) {
	t.Parallel()
	lb := corev1.ServiceTypeLoadBalancer
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Service: &v1alpha1.ServiceSpec{
		Type: &lb, LoadBalancerClass: ptrTo("example.com/lb-a"),
	}})
	lbClass := func(want string) func(*corev1.Service) error {
		return func(s *corev1.Service) error {
			if s.Spec.LoadBalancerClass == nil || *s.Spec.LoadBalancerClass != want {
				return fmt.Errorf("Service loadBalancerClass is %v, want %s", s.Spec.LoadBalancerClass, want)
			}
			return nil
		}
	}
	old := waitFor(t, f.workload(), &corev1.Service{}, lbClass("example.com/lb-a"))

	update(t, f.params, func(c *v1alpha1.CaddyProxyConfig) {
		c.Spec.Service.LoadBalancerClass = ptrTo("example.com/lb-b")
	})
	svc := waitFor(t, f.workload(), &corev1.Service{}, lbClass("example.com/lb-b"))
	if svc.UID == old.UID {
		t.Errorf("Service %s kept its UID %s: it was updated, not recreated", svc.Name, svc.UID)
	}
	if err := checkFleetMeta(svc, f.gateway); err != nil {
		t.Error(err)
	}
	note := fmt.Sprintf("Recreating Service %s: an immutable field changed", svc.Name)
	eventually(t, waitTimeout, func() error {
		var events eventsv1.EventList
		if err := k8s.List(ctxFor(t), &events, client.InNamespace(f.ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == "Recreating" && e.Regarding.Kind == "Gateway" && e.Regarding.UID == f.gateway.UID {
				if e.Note != note || e.Type != corev1.EventTypeNormal || e.Action != "Apply" {
					return fmt.Errorf("event is %s/%s %q, want Normal/Apply %q", e.Type, e.Action, e.Note, note)
				}
				return nil
			}
		}
		return fmt.Errorf("no Recreating event on Gateway %s among %d events", f.gateway.Name, len(events.Items))
	})
	f.waitGateway(t, gatewayAcceptedIs(gatewayAccepted))
}

// TestGatewayRevertsDrift edits fields the operator owns by hand, twice in a row with the
// same desired state: each edit is undone, so skipping unchanged applies never skips drift.
func TestGatewayRevertsDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{Workload: &v1alpha1.WorkloadSpec{Replicas: ptrTo[int32](2)}})
	waitFor(t, f.workload(), &appsv1.Deployment{}, exists)
	for i := range 2 {
		update(t, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.workload().Name}}, func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptrTo[int32](5)
		})
		waitFor(t, f.workload(), &appsv1.Deployment{}, func(d *appsv1.Deployment) error {
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
				return fmt.Errorf("edit %d: Deployment replicas are %v, want 2 back", i, d.Spec.Replicas)
			}
			return nil
		})
		update(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.workload().Name}}, func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort = intstr.FromInt32(9999)
		})
		waitFor(t, f.workload(), &corev1.Service{}, func(s *corev1.Service) error {
			if s.Spec.Ports[0].TargetPort.IntValue() == 9999 {
				return fmt.Errorf("edit %d: Service targetPort is still 9999", i)
			}
			return nil
		})
	}
}

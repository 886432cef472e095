package controller_test

import (
	"fmt"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

func rawJSON(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }

func paramsAccepted() wantCondition {
	return wantCondition{metav1.ConditionTrue, "Accepted", "CaddyProxyConfig is valid"}
}

func paramsInvalid(message string) wantCondition {
	return wantCondition{metav1.ConditionFalse, "Invalid", message}
}

const portsMessage = "spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180)"

// waitCPC polls the CaddyProxyConfig until check passes on it, and returns it.
func waitCPC(t *testing.T, key client.ObjectKey, check func(*v1alpha1.CaddyProxyConfig) error) *v1alpha1.CaddyProxyConfig {
	t.Helper()
	var cpc v1alpha1.CaddyProxyConfig
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), key, &cpc); err != nil {
			return err
		}
		return check(&cpc)
	})
	return &cpc
}

// acceptedIs checks the Accepted condition and observedGeneration of a CaddyProxyConfig.
func acceptedIs(want wantCondition) func(*v1alpha1.CaddyProxyConfig) error {
	return func(c *v1alpha1.CaddyProxyConfig) error {
		if c.Status.ObservedGeneration != c.Generation {
			return fmt.Errorf("status.observedGeneration is %d, want %d", c.Status.ObservedGeneration, c.Generation)
		}
		return checkCondition(c.Status.Conditions, "Accepted", c.Generation, want)
	}
}

func TestCaddyProxyConfigAccepted(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec v1alpha1.CaddyProxyConfigSpec
		want wantCondition
	}{
		"empty spec": {want: paramsAccepted()},
		"same ports with metrics disabled": {
			spec: func() v1alpha1.CaddyProxyConfigSpec {
				s := conflictingPorts()
				s.Caddy.Metrics.Enabled = new(bool)
				return s
			}(),
			want: paramsAccepted(),
		},
		"admin port equals metrics port": {spec: conflictingPorts(), want: paramsInvalid(portsMessage)},
		"admin port equals the default metrics port": {
			spec: v1alpha1.CaddyProxyConfigSpec{ControlPlane: &v1alpha1.ControlPlaneSpec{AdminPort: ptrTo[int32](9180)}},
			want: paramsInvalid(portsMessage),
		},
		"JSON patch with a relative path": {
			spec: v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{
				{Target: "Service", Type: v1alpha1.PatchMerge, Value: rawJSON(`{"metadata":{}}`)},
				{Target: "Deployment", Type: v1alpha1.PatchJSONPatch, Value: rawJSON(`[{"op":"add","path":"/a","value":1},{"op":"remove","path":"spec"}]`)},
			}},
			want: paramsInvalid(`spec.patches[1].value[1].path: Invalid value: "spec": must be a JSON pointer starting with /`),
		},
		"strategic merge patch with a list": {
			spec: v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{
				{Target: "Service", Type: v1alpha1.PatchStrategicMerge, Value: rawJSON(`[{"op":"add","path":"/a","value":1}]`)},
			}},
			want: paramsInvalid(`spec.patches[0].value: Invalid value: "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]": must be an object for type StrategicMerge`),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cpc := newCPC(newNamespace(t), "params", tc.spec)
			create(t, cpc)
			waitCPC(t, client.ObjectKeyFromObject(cpc), acceptedIs(tc.want))
		})
	}
}

// TestCaddyProxyConfigFollowsSpecChanges shows the condition tracking each generation.
func TestCaddyProxyConfigFollowsSpecChanges(t *testing.T) {
	t.Parallel()
	cpc := newCPC(newNamespace(t), "params", v1alpha1.CaddyProxyConfigSpec{})
	create(t, cpc)
	key := client.ObjectKeyFromObject(cpc)
	first := waitCPC(t, key, acceptedIs(paramsAccepted()))

	update(t, cpc, func(c *v1alpha1.CaddyProxyConfig) { c.Spec = conflictingPorts() })
	second := waitCPC(t, key, acceptedIs(paramsInvalid(portsMessage)))
	if second.Generation <= first.Generation {
		t.Fatalf("generation did not grow: %d then %d", first.Generation, second.Generation)
	}

	update(t, cpc, func(c *v1alpha1.CaddyProxyConfig) { c.Spec.ControlPlane.AdminPort = ptrTo[int32](2021) })
	waitCPC(t, key, acceptedIs(paramsAccepted()))
}

func ptrTo[T any](v T) *T { return &v }

// ancestor is the expected form of one status.ancestors entry.
type ancestor struct {
	kind, namespace, name string
}

// ancestorsAre checks status.ancestors: exactly want, in order, each with an Accepted
// condition of status cond computed from the object's generation.
func ancestorsAre(cond wantCondition, want ...ancestor) func(*v1alpha1.CaddyProxyConfig) error {
	return func(c *v1alpha1.CaddyProxyConfig) error {
		got := c.Status.Ancestors
		if len(got) != len(want) {
			return fmt.Errorf("ancestors are %+v, want %+v", got, want)
		}
		for i, w := range want {
			ref := got[i].AncestorRef
			if ref.Group != gwapiv1.GroupName || ref.Kind != w.kind || ref.Namespace != w.namespace || ref.Name != w.name {
				return fmt.Errorf("ancestor %d is %+v, want %+v (all: %+v)", i, ref, w, got)
			}
			if err := checkCondition(got[i].Conditions, "Accepted", c.Generation, cond); err != nil {
				return fmt.Errorf("ancestor %d: %w", i, err)
			}
		}
		return nil
	}
}

func withInfrastructure(gw *gwapiv1.Gateway, params string) *gwapiv1.Gateway {
	gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{ParametersRef: &gwapiv1.LocalParametersReference{
		Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig, Name: params,
	}}
	return gw
}

// TestCaddyProxyConfigAncestors shows status.ancestors listing exactly the classes and
// Gateways of this operator that reference the object, sorted, as references come and go.
func TestCaddyProxyConfigAncestors(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cpc := newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{})
	create(t, cpc)
	key := client.ObjectKeyFromObject(cpc)
	classA, classB, other := uniqueName(t, "a"), uniqueName(t, "b"), uniqueName(t, "other")

	// Created in reverse order so that sorting is visible.
	create(t, newClass(classB, controllerName, paramsRef(ns, "params")))
	create(t, newClass(classA, controllerName, paramsRef(ns, "params")))
	create(t, newClass(other, "example.com/another-controller", paramsRef(ns, "params")))
	create(t, withInfrastructure(newGateway(ns, "gw-ours", classA), "params"))
	create(t, withInfrastructure(newGateway(ns, "gw-other", other), "params"))
	create(t, newGateway(ns, "gw-no-infra", classA))
	otherNS := newNamespace(t)
	create(t, withInfrastructure(newGateway(otherNS, "gw-other-namespace", classA), "params"))

	gwOurs := ancestor{"Gateway", ns, "gw-ours"}
	waitCPC(t, key, ancestorsAre(paramsAccepted(), gwOurs, ancestor{"GatewayClass", "", classA}, ancestor{"GatewayClass", "", classB}))

	// Class B stops referencing the object.
	update(t, newClass(classB, controllerName, nil), func(c *gwapiv1.GatewayClass) { c.Spec.ParametersRef = nil })
	waitCPC(t, key, ancestorsAre(paramsAccepted(), gwOurs, ancestor{"GatewayClass", "", classA}))

	// The ancestors' conditions follow the object's validity.
	update(t, cpc, func(c *v1alpha1.CaddyProxyConfig) { c.Spec = conflictingPorts() })
	invalid := wantCondition{metav1.ConditionFalse, "InvalidParameters", portsMessage}
	waitCPC(t, key, ancestorsAre(invalid, gwOurs, ancestor{"GatewayClass", "", classA}))
	got := waitCPC(t, key, acceptedIs(paramsInvalid(portsMessage)))
	if got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}

	// The Gateway drops its infrastructure reference.
	update(t, newGateway(ns, "gw-ours", classA), func(g *gwapiv1.Gateway) { g.Spec.Infrastructure = nil })
	waitCPC(t, key, ancestorsAre(invalid, ancestor{"GatewayClass", "", classA}))

	// Class A moves to other parameters.
	update(t, newClass(classA, controllerName, nil), func(c *gwapiv1.GatewayClass) { c.Spec.ParametersRef = paramsRef(ns, "elsewhere") })
	waitCPC(t, key, ancestorsAre(invalid))
}

// TestCaddyProxyConfigAncestorGatewayBeforeClass creates a Gateway that references the
// object before the Gateway's class exists: once the class of this operator appears the
// Gateway must be listed.
func TestCaddyProxyConfigAncestorGatewayBeforeClass(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cpc := newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{})
	create(t, cpc)
	key := client.ObjectKeyFromObject(cpc)
	class := uniqueName(t, "class")
	create(t, withInfrastructure(newGateway(ns, "gw", class), "params"))
	waitCPC(t, key, acceptedIs(paramsAccepted()))
	waitCPC(t, key, ancestorsAre(paramsAccepted()))

	create(t, newClass(class, controllerName, nil))
	waitCPC(t, key, ancestorsAre(paramsAccepted(), ancestor{"Gateway", ns, "gw"}))
}

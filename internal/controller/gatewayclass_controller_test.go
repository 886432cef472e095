package controller_test

import (
	"fmt"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/consts"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/features"
	"github.com/caddy-gateway/operator/internal/gatewayapi"
)

const (
	accepted         = string(gwapiv1.GatewayClassConditionStatusAccepted)
	supportedVersion = string(gwapiv1.GatewayClassConditionStatusSupportedVersion)
	acceptedMessage  = "GatewayClass is accepted by the Caddy Gateway Operator"
	versionMessage   = "the installed Gateway API CRDs are v1.7.0; this controller supports v1.7.x"
)

// wantCondition is the expected state of one condition.
type wantCondition struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// checkCondition compares the condition of type typ in conds with want, and checks that it
// was computed from generation.
func checkCondition(conds []metav1.Condition, typ string, generation int64, want wantCondition) error {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		return fmt.Errorf("no %s condition in %+v", typ, conds)
	}
	if c.Status != want.status || c.Reason != want.reason || c.Message != want.message {
		return fmt.Errorf("%s condition is %s/%s %q, want %s/%s %q",
			typ, c.Status, c.Reason, c.Message, want.status, want.reason, want.message)
	}
	if c.ObservedGeneration != generation {
		return fmt.Errorf("%s condition observedGeneration is %d, want %d", typ, c.ObservedGeneration, generation)
	}
	if c.LastTransitionTime.IsZero() {
		return fmt.Errorf("%s condition has no lastTransitionTime", typ)
	}
	return nil
}

// waitClass polls the class until its condition of type typ matches want, and returns it.
func waitClass(t *testing.T, name, typ string, want wantCondition) *gwapiv1.GatewayClass {
	t.Helper()
	var gc gwapiv1.GatewayClass
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &gc); err != nil {
			return err
		}
		return checkCondition(gc.Status.Conditions, typ, gc.Generation, want)
	})
	return &gc
}

func acceptedTrue() wantCondition {
	return wantCondition{metav1.ConditionTrue, string(gwapiv1.GatewayClassReasonAccepted), acceptedMessage}
}

func invalidParameters(message string) wantCondition {
	return wantCondition{metav1.ConditionFalse, string(gwapiv1.GatewayClassReasonInvalidParameters), message}
}

func versionTrue() wantCondition {
	return wantCondition{metav1.ConditionTrue, string(gwapiv1.GatewayClassReasonSupportedVersion), versionMessage}
}

func TestGatewayClassAccepted(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		withParams bool
	}{
		"valid parametersRef": {withParams: true},
		"no parametersRef":    {withParams: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var ref *gwapiv1.ParametersReference
			if tc.withParams {
				ns := newNamespace(t)
				create(t, newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{}))
				ref = paramsRef(ns, "params")
			}
			class := uniqueName(t, "class")
			create(t, newClass(class, controllerName, ref))

			gc := waitClass(t, class, accepted, acceptedTrue())
			if err := checkCondition(gc.Status.Conditions, supportedVersion, gc.Generation, versionTrue()); err != nil {
				// The two conditions are written together, in one update.
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(gc.Status.SupportedFeatures, features.Supported()) {
				t.Errorf("supportedFeatures = %+v, want %+v", gc.Status.SupportedFeatures, features.Supported())
			}
			if len(gc.Status.Conditions) != 2 {
				t.Errorf("want exactly the Accepted and SupportedVersion conditions, got %+v", gc.Status.Conditions)
			}
		})
	}
}

func TestGatewayClassInvalidParameters(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// ref builds the parametersRef; objects are created in ns first.
		ref     func(ns string) *gwapiv1.ParametersReference
		objects func(ns string) []client.Object
		message func(ns string) string
	}{
		"wrong group": {
			ref: func(ns string) *gwapiv1.ParametersReference {
				r := paramsRef(ns, "params")
				r.Group = "example.com"
				return r
			},
			message: func(string) string {
				return `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "example.com" kind "CaddyProxyConfig"`
			},
		},
		"wrong kind": {
			ref: func(ns string) *gwapiv1.ParametersReference {
				r := paramsRef(ns, "params")
				r.Kind = "ConfigMap"
				return r
			},
			message: func(string) string {
				return `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "gateway.caddygateway.io" kind "ConfigMap"`
			},
		},
		"missing namespace": {
			ref: func(ns string) *gwapiv1.ParametersReference {
				r := paramsRef(ns, "params")
				r.Namespace = nil
				return r
			},
			objects: func(ns string) []client.Object {
				return []client.Object{newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{})}
			},
			message: func(string) string {
				return `spec.parametersRef.namespace is required: CaddyProxyConfig "params" is namespaced`
			},
		},
		"CaddyProxyConfig not found": {
			ref: func(ns string) *gwapiv1.ParametersReference { return paramsRef(ns, "missing") },
			message: func(ns string) string {
				return fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/missing not found", ns)
			},
		},
		"CaddyProxyConfig in another namespace": {
			ref: func(ns string) *gwapiv1.ParametersReference { return paramsRef("default", "params") },
			objects: func(ns string) []client.Object {
				return []client.Object{newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{})}
			},
			message: func(string) string { return "spec.parametersRef: CaddyProxyConfig default/params not found" },
		},
		"admin port equals metrics port": {
			ref:     func(ns string) *gwapiv1.ParametersReference { return paramsRef(ns, "params") },
			objects: func(ns string) []client.Object { return []client.Object{newCPC(ns, "params", conflictingPorts())} },
			message: func(ns string) string {
				return fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/params is invalid: "+
					"spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180)", ns)
			},
		},
		"JSON patch with an unknown op": {
			ref: func(ns string) *gwapiv1.ParametersReference { return paramsRef(ns, "params") },
			objects: func(ns string) []client.Object {
				return []client.Object{newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{Patches: []v1alpha1.Patch{{
					Target: "Service", Type: v1alpha1.PatchJSONPatch,
					Value: rawJSON(`[{"op":"delete","path":"/spec/type"}]`),
				}}})}
			},
			message: func(ns string) string {
				return fmt.Sprintf(`spec.parametersRef: CaddyProxyConfig %s/params is invalid: `+
					`spec.patches[0].value[0].op: Unsupported value: "delete": supported values: "add", "remove", "replace", "move", "copy", "test"`, ns)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			if tc.objects != nil {
				for _, o := range tc.objects(ns) {
					create(t, o)
				}
			}
			class := uniqueName(t, "class")
			create(t, newClass(class, controllerName, tc.ref(ns)))
			gc := waitClass(t, class, accepted, invalidParameters(tc.message(ns)))
			// Invalid parameters do not hide the version check.
			if err := checkCondition(gc.Status.Conditions, supportedVersion, gc.Generation, versionTrue()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGatewayClassFollowsItsParameters shows that a class is re-evaluated whenever its
// CaddyProxyConfig appears, changes or disappears.
func TestGatewayClassFollowsItsParameters(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	class := uniqueName(t, "class")
	create(t, newClass(class, controllerName, paramsRef(ns, "params")))
	notFound := invalidParameters(fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/params not found", ns))
	waitClass(t, class, accepted, notFound)

	cpc := newCPC(ns, "params", v1alpha1.CaddyProxyConfigSpec{})
	create(t, cpc)
	waitClass(t, class, accepted, acceptedTrue())

	update(t, cpc, func(c *v1alpha1.CaddyProxyConfig) { c.Spec = conflictingPorts() })
	waitClass(t, class, accepted, invalidParameters(fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/params is invalid: "+
		"spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180)", ns)))

	// Disabling the metrics server makes the same ports valid again.
	update(t, cpc, func(c *v1alpha1.CaddyProxyConfig) { c.Spec.Caddy.Metrics.Enabled = new(bool) })
	waitClass(t, class, accepted, acceptedTrue())

	if err := k8s.Delete(ctxFor(t), cpc); err != nil {
		t.Fatal(err)
	}
	waitClass(t, class, accepted, notFound)
}

// TestGatewayClassOfAnotherController shows that classes of other controllers are left
// alone: no status, no finalizer, even with parameters we would reject and a Gateway.
func TestGatewayClassOfAnotherController(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	class := uniqueName(t, "class")
	ref := paramsRef(ns, "missing")
	ref.Group = "example.com"
	gc := newClass(class, "example.com/another-controller", ref)
	create(t, gc)
	create(t, newGateway(ns, "gw", class))

	// The API server defaults the status to one Accepted=Unknown condition.
	initial := gc.Status.DeepCopy()
	if len(initial.Conditions) != 1 || initial.Conditions[0].Status != metav1.ConditionUnknown ||
		initial.Conditions[0].Reason != string(gwapiv1.GatewayClassReasonPending) {
		t.Fatalf("unexpected defaulted status %+v", initial)
	}
	rv := gc.ResourceVersion
	consistently(t, quietPeriod, func() error {
		var got gwapiv1.GatewayClass
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(gc), &got); err != nil {
			return err
		}
		if got.ResourceVersion != rv || len(got.Finalizers) != 0 || !equality.Semantic.DeepEqual(&got.Status, initial) {
			return fmt.Errorf("class changed: resourceVersion %s (was %s), finalizers %v, status %+v",
				got.ResourceVersion, rv, got.Finalizers, got.Status)
		}
		return nil
	})
}

// TestGatewayClassUnsupportedVersion changes the bundle version of the installed CRDs. It
// is the only test that does not call t.Parallel: every parallel test waits until it has
// finished, restored the annotation and seen a class accept it again.
func TestGatewayClassUnsupportedVersion(t *testing.T) {
	class := uniqueName(t, "class")
	create(t, newClass(class, controllerName, nil))
	waitClass(t, class, supportedVersion, versionTrue())

	setBundleVersion(t, "v1.5.0")
	t.Cleanup(func() {
		setBundleVersion(t, "v1.7.0")
		waitClass(t, class, supportedVersion, versionTrue())
	})
	gc := waitClass(t, class, supportedVersion, wantCondition{
		metav1.ConditionFalse, string(gwapiv1.GatewayClassReasonUnsupportedVersion),
		"the installed Gateway API CRDs are v1.5.0; this controller supports v1.7.x",
	})
	// The version does not decide acceptance.
	if err := checkCondition(gc.Status.Conditions, accepted, gc.Generation, acceptedTrue()); err != nil {
		t.Error(err)
	}
}

func setBundleVersion(t *testing.T, version string) {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := k8s.Get(ctxFor(t), types.NamespacedName{Name: gatewayapi.GatewayClassCRD}, &crd); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(crd.DeepCopy())
	crd.Annotations[consts.BundleVersionAnnotation] = version
	if err := k8s.Patch(ctxFor(t), &crd, patch); err != nil {
		t.Fatalf("setting %s on CRD %s: %v", version, gatewayapi.GatewayClassCRD, err)
	}
}

// TestGatewayClassFinalizer shows the gateway-exists finalizer following the Gateways of
// the class, and holding a deleted class until its last Gateway is gone.
func TestGatewayClassFinalizer(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	class := uniqueName(t, "class")
	gc := newClass(class, controllerName, nil)
	create(t, gc)
	waitClass(t, class, accepted, acceptedTrue())
	finalizer := func(want bool) func() error {
		return func() error {
			if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(gc), gc); err != nil {
				return err
			}
			if got := controllerutil.ContainsFinalizer(gc, gwapiv1.GatewayClassFinalizerGatewaysExist); got != want {
				return fmt.Errorf("finalizers are %v, want %s present: %t", gc.Finalizers, gwapiv1.GatewayClassFinalizerGatewaysExist, want)
			}
			return nil
		}
	}
	if err := finalizer(false)(); err != nil {
		t.Fatal(err)
	}

	gw := newGateway(ns, "gw", class)
	create(t, gw)
	eventually(t, waitTimeout, finalizer(true))
	if err := k8s.Delete(ctxFor(t), gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTimeout, finalizer(false))

	gw2 := newGateway(ns, "gw2", class)
	create(t, gw2)
	eventually(t, waitTimeout, finalizer(true))
	if err := k8s.Delete(ctxFor(t), gc); err != nil {
		t.Fatal(err)
	}
	// While the Gateway exists the class stays, marked for deletion.
	consistently(t, quietPeriod/2, func() error {
		if err := finalizer(true)(); err != nil {
			return err
		}
		if gc.DeletionTimestamp.IsZero() {
			return fmt.Errorf("class %s has no deletionTimestamp", class)
		}
		return nil
	})
	if err := k8s.Delete(ctxFor(t), gw2); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTimeout, func() error {
		err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(gc), &gwapiv1.GatewayClass{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("class %s still exists (err %v)", class, err)
	})
}

// TestGatewayClassStatusSettles shows that a class reaches its final status and then stops
// being written: no requeue loop, no flapping conditions.
func TestGatewayClassStatusSettles(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec func() *v1alpha1.CaddyProxyConfigSpec
		want func(ns string) wantCondition
	}{
		"invalid parameters": {
			spec: func() *v1alpha1.CaddyProxyConfigSpec { s := conflictingPorts(); return &s },
			want: func(ns string) wantCondition {
				return invalidParameters(fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/params is invalid: "+
					"spec.caddy.metrics.port: Invalid value: 9180: must differ from spec.controlPlane.adminPort (9180)", ns))
			},
		},
		"missing parameters": {
			want: func(ns string) wantCondition {
				return invalidParameters(fmt.Sprintf("spec.parametersRef: CaddyProxyConfig %s/params not found", ns))
			},
		},
		"valid parameters": {
			spec: func() *v1alpha1.CaddyProxyConfigSpec { return &v1alpha1.CaddyProxyConfigSpec{} },
			want: func(string) wantCondition { return acceptedTrue() },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			var cpc *v1alpha1.CaddyProxyConfig
			if tc.spec != nil {
				cpc = newCPC(ns, "params", *tc.spec())
				create(t, cpc)
			}
			class := uniqueName(t, "class")
			create(t, newClass(class, controllerName, paramsRef(ns, "params")))
			gc := waitClass(t, class, accepted, tc.want(ns))
			// A Gateway of the class adds the finalizer: one more write, then quiet.
			create(t, withInfrastructure(newGateway(ns, "gw", class), "params"))
			eventually(t, waitTimeout, func() error {
				if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(gc), gc); err != nil {
					return err
				}
				if !controllerutil.ContainsFinalizer(gc, gwapiv1.GatewayClassFinalizerGatewaysExist) {
					return fmt.Errorf("no finalizer yet")
				}
				return nil
			})
			if cpc != nil {
				// Both the class and the Gateway are listed before the object settles.
				waitCPC(t, client.ObjectKeyFromObject(cpc), func(c *v1alpha1.CaddyProxyConfig) error {
					if len(c.Status.Ancestors) != 2 {
						return fmt.Errorf("ancestors are %+v, want the Gateway and the class", c.Status.Ancestors)
					}
					return nil
				})
			}
			assertSettled(t, gc)
			if cpc != nil {
				assertSettled(t, cpc)
			}
		})
	}
}

// assertSettled waits until obj's resourceVersion has held for a quiet period.
func assertSettled(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	rv := obj.GetResourceVersion()
	consistently(t, quietPeriod, func() error {
		got := obj.DeepCopyObject().(client.Object)
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(obj), got); err != nil {
			return err
		}
		if got.GetResourceVersion() != rv {
			return fmt.Errorf("%T %s was written again: resourceVersion %s -> %s", obj, client.ObjectKeyFromObject(obj), rv, got.GetResourceVersion())
		}
		return nil
	})
}

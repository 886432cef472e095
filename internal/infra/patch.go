package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// applyPatches applies the patches in order to the objects of their target kind, in place.
// A patch whose target kind is not rendered for this Gateway (an HPA without autoscaling,
// a DaemonSet patch on a Deployment) does nothing. A patch may not change an object's
// kind, name or namespace, nor give the Caddy pods Kubernetes credentials beyond those
// rendered (allowed; see checkCredentials).
func applyPatches(objs []client.Object, patches []v1alpha1.Patch, allowed credentials) error {
	for i, p := range patches {
		for j, obj := range objs {
			if obj.GetObjectKind().GroupVersionKind().Kind != string(p.Target) {
				continue
			}
			patched, err := applyPatch(obj, p)
			if err == nil {
				err = checkCredentials(patched, allowed)
			}
			if err != nil {
				return fmt.Errorf("spec.patches[%d] (%s patch of %s %s): %w", i, patchType(p), p.Target, obj.GetName(), err)
			}
			objs[j] = patched
		}
	}
	return nil
}

func patchType(p v1alpha1.Patch) v1alpha1.PatchType {
	if p.Type == "" {
		return v1alpha1.PatchStrategicMerge
	}
	return p.Type
}

func applyPatch(obj client.Object, p v1alpha1.Patch) (client.Object, error) {
	original, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch patchType(p) {
	case v1alpha1.PatchStrategicMerge:
		out, err = strategicpatch.StrategicMergePatch(original, p.Value.Raw, obj)
	case v1alpha1.PatchMerge:
		out, err = jsonpatch.MergePatch(original, p.Value.Raw)
	case v1alpha1.PatchJSONPatch:
		var ops jsonpatch.Patch
		if ops, err = jsonpatch.DecodePatch(p.Value.Raw); err == nil {
			out, err = ops.Apply(original)
		}
	default:
		err = fmt.Errorf("unknown patch type %q", p.Type)
	}
	if err != nil {
		return nil, err
	}
	patched := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(patched); err != nil {
		return nil, fmt.Errorf("patched object is not a valid %s: %w", p.Target, err)
	}
	if patched.GetObjectKind().GroupVersionKind() != obj.GetObjectKind().GroupVersionKind() ||
		patched.GetName() != obj.GetName() || patched.GetNamespace() != obj.GetNamespace() {
		return nil, fmt.Errorf("a patch may not change apiVersion, kind, name or namespace")
	}
	return patched, nil
}

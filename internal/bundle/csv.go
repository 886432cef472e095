package bundle

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Names of the relatedImages entries.
const (
	RelatedImageOperator = "caddy-gateway-operator"
	RelatedImageCaddy    = "caddy"
)

// buildCSV completes the CSV base: name, version, upgrade edges, install strategy, owned
// CRDs, alm-examples and relatedImages.
func buildCSV(in inputs, strategy operatorsv1alpha1.StrategyDetailsDeployment, o Options) (map[string]any, error) {
	var csv operatorsv1alpha1.ClusterServiceVersion
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in.base.Object, &csv); err != nil {
		return nil, fmt.Errorf("ClusterServiceVersion base: %w", err)
	}
	csv.Name = CSVName(o.Package, o.Version)
	csv.Namespace = ""
	csv.Spec.Version = version.OperatorVersion{Version: semver.MustParse(o.Version)}
	csv.Spec.Replaces = ""
	if o.Replaces != "" {
		csv.Spec.Replaces = CSVName(o.Package, o.Replaces)
	}
	if csv.Annotations == nil {
		csv.Annotations = map[string]string{}
	}
	delete(csv.Annotations, "olm.skipRange")
	if o.SkipRange != "" {
		csv.Annotations["olm.skipRange"] = o.SkipRange
	}
	csv.Annotations["containerImage"] = o.OperatorImage
	examples, err := almExamples(in.samples)
	if err != nil {
		return nil, err
	}
	csv.Annotations["alm-examples"] = examples
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment, StrategySpec: strategy,
	}
	owned, err := ownedCRDs(csv.Spec.CustomResourceDefinitions.Owned, in.crds)
	if err != nil {
		return nil, err
	}
	csv.Spec.CustomResourceDefinitions.Owned = owned
	csv.Spec.RelatedImages = []operatorsv1alpha1.RelatedImage{
		{Name: RelatedImageOperator, Image: o.OperatorImage},
		{Name: RelatedImageCaddy, Image: o.CaddyImage},
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&csv)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion(operatorsv1alpha1.SchemeGroupVersion.String())
	u.SetKind(operatorsv1alpha1.ClusterServiceVersionKind)
	// Empty status and server-set fields the typed round trip adds.
	unstructured.RemoveNestedField(u.Object, "spec", "cleanup")
	deployments, _, _ := unstructured.NestedSlice(u.Object, "spec", "install", "spec", "deployments")
	for _, d := range deployments {
		unstructured.RemoveNestedField(d.(map[string]any), "spec", "template", "metadata", "creationTimestamp")
	}
	_ = unstructured.SetNestedSlice(u.Object, deployments, "spec", "install", "spec", "deployments")
	return cleanObject(u), nil
}

// almExamples is the alm-examples annotation: the samples of the owned CRDs, as a JSON array.
func almExamples(samples []*unstructured.Unstructured) (string, error) {
	if len(samples) == 0 {
		return "", errors.New("alm-examples: config/samples holds no object of an owned CRD")
	}
	list := make([]map[string]any, 0, len(samples))
	for _, s := range samples {
		list = append(list, cleanObject(s))
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return "", fmt.Errorf("alm-examples: %w", err)
	}
	return string(b), nil
}

// ownedCRDs checks the base's owned-CRD descriptions against the CRDs: every served version
// of every CRD must be described, and nothing else.
func ownedCRDs(base []operatorsv1alpha1.CRDDescription, crds []*unstructured.Unstructured) ([]operatorsv1alpha1.CRDDescription, error) {
	described := map[string]operatorsv1alpha1.CRDDescription{}
	for _, d := range base {
		described[d.Name+"/"+d.Version] = d
	}
	var out []operatorsv1alpha1.CRDDescription
	var errs []error
	for _, crd := range crds {
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
			served, _, _ := unstructured.NestedBool(v.(map[string]any), "served")
			if !served {
				continue
			}
			key := crd.GetName() + "/" + name
			d, ok := described[key]
			if !ok {
				errs = append(errs, fmt.Errorf("CRD %s version %s: not described in the CSV base's spec.customresourcedefinitions.owned", crd.GetName(), name))
				continue
			}
			if d.Kind != kind {
				errs = append(errs, fmt.Errorf("CSV base owned CRD %s: kind %q, the CRD says %q", key, d.Kind, kind))
			}
			delete(described, key)
			out = append(out, d)
		}
	}
	for key := range described {
		errs = append(errs, fmt.Errorf("CSV base owned CRD %s: no such CRD version in config/crd", key))
	}
	return out, errors.Join(errs...)
}

package bundle_test

import (
	"os"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
	interfaces "github.com/operator-framework/api/pkg/validation/interfaces"
)

// TestCommittedBundleValidates runs the validators OperatorHub runs on bundle/: the default
// bundle validators (CSV, CRDs, bundle), the OperatorHub suite and the good-practices suite.
// Any error fails; warnings are logged.
func TestCommittedBundleValidates(t *testing.T) {
	b, err := manifests.GetBundleFromDir("../../bundle")
	if err != nil {
		t.Fatalf("loading bundle/: %v", err)
	}
	if b.CSV == nil || len(b.V1CRDs) == 0 {
		t.Fatalf("bundle/ has no CSV or no CRD: csv=%v crds=%d", b.CSV != nil, len(b.V1CRDs))
	}
	validators := append(interfaces.Validators{}, validation.DefaultBundleValidators...)
	validators = append(validators, validation.OperatorHubV2Validator, validation.StandardCategoriesValidator,
		validation.StandardCapabilitiesValidator, validation.GoodPracticesValidator)
	objs := append(b.ObjectsToValidate(), map[string]string{"k8s-version": "1.36"})
	var checked int
	for _, r := range validators.Validate(objs...) {
		for _, e := range r.Errors {
			t.Errorf("%s: %s", r.Name, e.Error())
		}
		for _, w := range r.Warnings {
			t.Logf("warning: %s: %s", r.Name, w.Error())
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("the validators returned no result at all")
	}
}

// TestCommittedBundleShape checks what the validators leave open: AllNamespaces is the only
// install mode, no dependency is declared and no prerequisite API's CRD is shipped.
func TestCommittedBundleShape(t *testing.T) {
	b, err := manifests.GetBundleFromDir("../../bundle")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range b.CSV.Spec.InstallModes {
		if m.Supported != (m.Type == operatorsv1alpha1.InstallModeTypeAllNamespaces) {
			t.Errorf("install mode %s supported=%v: only AllNamespaces is supported", m.Type, m.Supported)
		}
	}
	if len(b.Dependencies) > 0 {
		t.Errorf("the bundle declares dependencies: %+v", b.Dependencies)
	}
	if _, err := os.Stat("../../bundle/metadata/dependencies.yaml"); err == nil {
		t.Error("bundle/metadata/dependencies.yaml exists")
	}
	for _, crd := range b.V1CRDs {
		if crd.Spec.Group != "gateway.caddygateway.io" {
			t.Errorf("CRD %s is not this operator's", crd.Name)
		}
	}
	images := map[string]bool{}
	for _, ri := range b.CSV.Spec.RelatedImages {
		images[ri.Name] = ri.Image != ""
	}
	if !images["caddy-gateway-operator"] || !images["caddy"] {
		t.Errorf("relatedImages lack the operator or the Caddy image: %+v", b.CSV.Spec.RelatedImages)
	}
}

// TestValidatorsRejectABrokenBundle proves the validators above can fail: the committed
// bundle with its install modes removed is an error.
func TestValidatorsRejectABrokenBundle(t *testing.T) {
	b, err := manifests.GetBundleFromDir("../../bundle")
	if err != nil {
		t.Fatal(err)
	}
	b.CSV.Spec.InstallModes = nil
	var errs []errors.Error
	for _, r := range validation.DefaultBundleValidators.Validate(b.ObjectsToValidate()...) {
		errs = append(errs, r.Errors...)
	}
	if len(errs) == 0 {
		t.Fatal("a CSV without installModes passed the default validators")
	}
}

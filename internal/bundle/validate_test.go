package bundle_test

import (
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
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

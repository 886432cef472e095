package bundle

import (
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// inputs are the objects of config/manifests sorted by what the bundle does with them.
type inputs struct {
	// base is the ClusterServiceVersion base (config/manifests/bases).
	base *unstructured.Unstructured
	// scorecard is the scorecard Configuration (config/scorecard).
	scorecard *unstructured.Unstructured
	crds      []*unstructured.Unstructured
	// deployments become the install strategy.
	deployments []*unstructured.Unstructured
	// serviceAccounts are those the deployments run as: OLM creates them.
	serviceAccounts []*unstructured.Unstructured
	// roles and bindings: those bound to the service accounts become the install strategy's
	// permissions, the others are shipped as they are.
	roles    []*unstructured.Unstructured
	bindings []*unstructured.Unstructured
	// samples are objects of the owned CRDs: alm-examples.
	samples []*unstructured.Unstructured
	// others are shipped in manifests/ as they are.
	others []*unstructured.Unstructured
}

// shippedKinds are the kinds OLM installs from a bundle's manifests/ besides the CSV and CRDs.
var shippedKinds = []string{
	"Service", "ConfigMap", "Secret", "NetworkPolicy", "PodDisruptionBudget", "PriorityClass",
	"ServiceMonitor", "PrometheusRule", "VerticalPodAutoscaler",
}

// clusterAdminKinds are kinds config/default installs that OLM cannot install from a bundle
// (they are not among operator-registry's supported kinds): the admission policy that limits
// the operator's writes to the objects it manages. A cluster administrator applies
// config/admission-policy on an OLM install; the README says so.
var clusterAdminKinds = []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}

// prerequisiteGroups are API groups the bundle never owns: the Gateway API (a prerequisite)
// and cert-manager (optional, detected at run time). config/samples holds objects of them (a
// GatewayClass, a Gateway, an HTTPRoute) that are not bundle content, and their CRDs must not
// be shipped.
var prerequisiteGroups = []string{"gateway.networking.k8s.io", "cert-manager.io"}

func sortInputs(objs []*unstructured.Unstructured) (inputs, error) {
	var in inputs
	owned := map[string]bool{} // group/Kind of the CRDs
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			owned[g+"/"+k] = true
		}
	}
	var errs []error
	for _, o := range objs {
		if err := in.add(o, owned); err != nil {
			errs = append(errs, err)
		}
	}
	if in.base == nil {
		errs = append(errs, errors.New("no ClusterServiceVersion base (config/manifests/bases)"))
	}
	if in.scorecard == nil {
		errs = append(errs, errors.New("no scorecard Configuration (config/scorecard)"))
	}
	if len(in.deployments) == 0 {
		errs = append(errs, errors.New("no Deployment to install"))
	}
	return in, errors.Join(errs...)
}

// add files o under what the bundle does with it; owned holds the group/Kind of the CRDs.
func (in *inputs) add(o *unstructured.Unstructured, owned map[string]bool) error {
	gvk := o.GroupVersionKind()
	switch {
	case gvk.Kind == "ClusterServiceVersion":
		if in.base != nil {
			return errors.New("more than one ClusterServiceVersion base")
		}
		in.base = o
	case gvk.Kind == "Configuration" && gvk.Group == "scorecard.operatorframework.io":
		in.scorecard = o
	case gvk.Kind == "CustomResourceDefinition":
		if g, _, _ := unstructured.NestedString(o.Object, "spec", "group"); slices.Contains(prerequisiteGroups, g) {
			return fmt.Errorf("CustomResourceDefinition %s: the %s API is installed separately, never by this bundle", o.GetName(), g)
		}
		in.crds = append(in.crds, o)
	case gvk.Kind == "Namespace":
		// OLM installs into the OperatorGroup's namespace.
	case gvk.Kind == "Deployment":
		in.deployments = append(in.deployments, o)
	case gvk.Kind == "ServiceAccount":
		in.serviceAccounts = append(in.serviceAccounts, o)
	case gvk.Kind == "Role" || gvk.Kind == "ClusterRole":
		in.roles = append(in.roles, o)
	case gvk.Kind == "RoleBinding" || gvk.Kind == "ClusterRoleBinding":
		in.bindings = append(in.bindings, o)
	case owned[gvk.Group+"/"+gvk.Kind]:
		in.samples = append(in.samples, o)
	case slices.Contains(prerequisiteGroups, gvk.Group):
	case gvk.Group == "admissionregistration.k8s.io" && slices.Contains(clusterAdminKinds, gvk.Kind):
	case slices.Contains(shippedKinds, gvk.Kind):
		in.others = append(in.others, o)
	default:
		return fmt.Errorf("%s %s: OLM cannot install this kind from a bundle", gvk.Kind, o.GetName())
	}
	return nil
}

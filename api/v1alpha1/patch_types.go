package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// PatchTarget is the kind of rendered object a patch applies to.
// +kubebuilder:validation:Enum=ServiceAccount;Deployment;DaemonSet;Service;NetworkPolicy;HorizontalPodAutoscaler;PodDisruptionBudget
type PatchTarget string

// PatchType is how a patch is applied.
// +kubebuilder:validation:Enum=StrategicMerge;Merge;JSONPatch
type PatchType string

const (
	// PatchStrategicMerge applies a Kubernetes strategic merge patch (an object).
	PatchStrategicMerge PatchType = "StrategicMerge"
	// PatchMerge applies an RFC 7386 JSON merge patch (an object).
	PatchMerge PatchType = "Merge"
	// PatchJSONPatch applies an RFC 6902 JSON patch (a list of operations).
	PatchJSONPatch PatchType = "JSONPatch"
)

// Patch modifies one kind of rendered object after every typed field was applied.
//
// The shape of Value (an object or a list, depending on Type) cannot be checked by the API
// server: a schemaless field is invisible to CEL rules. The operator checks it instead
// (internal/params) and reports a mismatch in the Accepted condition.
type Patch struct {
	// Target is the kind of object to patch.
	Target PatchTarget `json:"target"`

	// Type of the patch. Default: StrategicMerge.
	// +optional
	// +kubebuilder:default=StrategicMerge
	Type PatchType `json:"type,omitempty"`

	// Value is the patch: an object for StrategicMerge and Merge, a list of
	// {op, path, value, from} operations for JSONPatch.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Value apiextensionsv1.JSON `json:"value"`
}

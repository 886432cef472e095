// Package v1alpha1 contains the CaddyProxyConfig API: the parameters a GatewayClass
// (spec.parametersRef) or a Gateway (spec.infrastructure.parametersRef) hands to the
// Caddy Gateway Operator to shape the Caddy fleet it provisions for each Gateway.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.caddygateway.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "gateway.caddygateway.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this API with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this API to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// KindCaddyProxyConfig is the kind a parametersRef names to point at a CaddyProxyConfig.
const KindCaddyProxyConfig = "CaddyProxyConfig"

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &CaddyProxyConfig{}, &CaddyProxyConfigList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Package v1alpha1 contains the CaddyProxyConfig API: the parameters a GatewayClass
// (spec.parametersRef) or a Gateway (spec.infrastructure.parametersRef) hands to the
// Caddy Gateway Operator to shape the Caddy fleet it provisions for each Gateway.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.caddygateway.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "gateway.caddygateway.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this API with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this API to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// KindCaddyProxyConfig is the kind a parametersRef names to point at a CaddyProxyConfig.
const KindCaddyProxyConfig = "CaddyProxyConfig"

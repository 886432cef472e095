// Package params resolves and validates CaddyProxyConfig parameters: it checks the shape
// of a GatewayClass parametersRef and the rules of a CaddyProxyConfig that the API
// server's schema cannot express, and turns spec.caddy's server and runtime settings
// into the emitter's options. It performs no I/O: callers fetch the objects.
package params

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// ClassRef checks that a GatewayClass parametersRef points at a CaddyProxyConfig and
// returns its key. A nil ref is valid and means "operator defaults" (ok is false).
func ClassRef(ref *gwapiv1.ParametersReference) (key types.NamespacedName, ok bool, err error) {
	if ref == nil {
		return types.NamespacedName{}, false, nil
	}
	if string(ref.Group) != v1alpha1.GroupVersion.Group || string(ref.Kind) != v1alpha1.KindCaddyProxyConfig {
		return types.NamespacedName{}, false, fmt.Errorf(
			"spec.parametersRef must refer to group %q kind %q, not group %q kind %q",
			v1alpha1.GroupVersion.Group, v1alpha1.KindCaddyProxyConfig, ref.Group, ref.Kind)
	}
	if ref.Namespace == nil || *ref.Namespace == "" {
		return types.NamespacedName{}, false, fmt.Errorf(
			"spec.parametersRef.namespace is required: CaddyProxyConfig %q is namespaced", ref.Name)
	}
	return types.NamespacedName{Namespace: string(*ref.Namespace), Name: ref.Name}, true, nil
}

// NotFound is the message for a parametersRef whose CaddyProxyConfig does not exist.
func NotFound(key types.NamespacedName) error {
	return fmt.Errorf("spec.parametersRef: CaddyProxyConfig %s not found", key)
}

// Invalid wraps the validation error of a referenced CaddyProxyConfig.
func Invalid(key types.NamespacedName, err error) error {
	return fmt.Errorf("spec.parametersRef: CaddyProxyConfig %s is invalid: %w", key, err)
}

package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/params"
)

// paramsError is a user mistake in a Gateway's parameters: it becomes the Gateway's
// Accepted=False/InvalidParameters condition, never a requeue.
type paramsError struct{ msg string }

func (e *paramsError) Error() string { return e.msg }

// mergedParams resolves the class-level and the Gateway-level CaddyProxyConfig and merges
// them. A *paramsError says what is wrong; other errors are transient.
func (r *GatewayReconciler) mergedParams(ctx context.Context, gc *gwapiv1.GatewayClass, gw *gwapiv1.Gateway) (*v1alpha1.CaddyProxyConfigSpec, error) {
	var class, gateway *v1alpha1.CaddyProxyConfigSpec
	classKey, ok, err := params.ClassRef(gc.Spec.ParametersRef)
	if err != nil {
		return nil, &paramsError{fmt.Sprintf("GatewayClass %s: %v", gc.Name, err)}
	}
	if ok {
		if class, err = r.readParams(ctx, classKey, "GatewayClass "+gc.Name+" spec.parametersRef"); err != nil {
			return nil, err
		}
	}
	if inf := gw.Spec.Infrastructure; inf != nil && inf.ParametersRef != nil {
		ref := inf.ParametersRef
		if string(ref.Group) != v1alpha1.GroupVersion.Group || string(ref.Kind) != v1alpha1.KindCaddyProxyConfig {
			return nil, &paramsError{fmt.Sprintf("spec.infrastructure.parametersRef must refer to group %q kind %q, not group %q kind %q",
				v1alpha1.GroupVersion.Group, v1alpha1.KindCaddyProxyConfig, ref.Group, ref.Kind)}
		}
		key := types.NamespacedName{Namespace: gw.Namespace, Name: ref.Name}
		if ok && key == classKey {
			// The class's own CaddyProxyConfig: it overrides nothing.
			return validMerge(class, nil)
		}
		if gateway, err = r.readParams(ctx, key, "spec.infrastructure.parametersRef"); err != nil {
			return nil, err
		}
		if err := params.CheckOverrides(class, gateway); err != nil {
			return nil, &paramsError{fmt.Sprintf("spec.infrastructure.parametersRef: CaddyProxyConfig %s: %v", key, err)}
		}
	}
	return validMerge(class, gateway)
}

// validMerge merges the class-level and Gateway-level specs and validates the result.
func validMerge(class, gateway *v1alpha1.CaddyProxyConfigSpec) (*v1alpha1.CaddyProxyConfigSpec, error) {
	merged := infra.Merge(class, gateway)
	if merged == nil {
		// Neither the class nor the Gateway has parameters: every default applies.
		merged = &v1alpha1.CaddyProxyConfigSpec{}
	}
	if err := params.Validate(merged); err != nil {
		return nil, &paramsError{fmt.Sprintf("merged CaddyProxyConfig is invalid: %v", err)}
	}
	return merged, nil
}

// readParams reads and validates one CaddyProxyConfig; where names the reference in messages.
func (r *GatewayReconciler) readParams(ctx context.Context, key types.NamespacedName, where string) (*v1alpha1.CaddyProxyConfigSpec, error) {
	var cpc v1alpha1.CaddyProxyConfig
	if err := r.Get(ctx, key, &cpc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &paramsError{fmt.Sprintf("%s: CaddyProxyConfig %s not found", where, key)}
		}
		return nil, fmt.Errorf("reading CaddyProxyConfig %s: %w", key, err)
	}
	if err := params.Validate(&cpc.Spec); err != nil {
		return nil, &paramsError{fmt.Sprintf("%s: CaddyProxyConfig %s is invalid: %v", where, key, err)}
	}
	return &cpc.Spec, nil
}

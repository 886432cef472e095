package controller

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Setup registers the field indexes and every reconciler with the manager.
func Setup(ctx context.Context, mgr ctrl.Manager, controllerName gwapiv1.GatewayController) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return fmt.Errorf("registering field indexes: %w", err)
	}
	if err := (&GatewayClassReconciler{Client: mgr.GetClient(), ControllerName: controllerName}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the GatewayClass controller: %w", err)
	}
	if err := (&CaddyProxyConfigReconciler{Client: mgr.GetClient(), ControllerName: controllerName}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the CaddyProxyConfig controller: %w", err)
	}
	return nil
}

package controller

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// NewSecretMetadataCache is newSecretMetadataCache, for the tests of controller_test.
var NewSecretMetadataCache = newSecretMetadataCache

// ReleasedStatus is releasedStatus, for the tests of controller_test.
var ReleasedStatus = releasedStatus

// WritePolicyStatuses is GatewayReconciler.writePolicyStatuses with the manager's client
// (it lists through the field indexes), reader and recorder, for the tests of
// controller_test.
func WritePolicyStatuses(ctx context.Context, mgr ctrl.Manager, controller gwapiv1.GatewayController, gw *gwapiv1.Gateway, statuses []translator.PolicyStatus) error {
	r := &GatewayReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("caddy-gateway-operator"),
		ControllerName: controller, backendTLS: backendTLSAPIs{policies: true},
	}
	return r.writePolicyStatuses(ctx, gw, statuses)
}

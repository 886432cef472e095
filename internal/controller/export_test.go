package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
)

// NewSecretMetadataCache is newSecretMetadataCache, for the tests of controller_test.
var NewSecretMetadataCache = newSecretMetadataCache

// ReleasedStatus is releasedStatus, for the tests of controller_test.
var ReleasedStatus = releasedStatus

// WritePolicyStatuses is GatewayReconciler.writePolicyStatuses with c (the manager's
// client: it lists through the field indexes) and reader, for the tests of
// controller_test. It takes no recorder: a full ancestors list would panic.
func WritePolicyStatuses(ctx context.Context, c client.Client, reader client.Reader, controller gwapiv1.GatewayController, gw *gwapiv1.Gateway, statuses []translator.PolicyStatus) error {
	r := &GatewayReconciler{Client: c, APIReader: reader, ControllerName: controller, backendTLS: backendTLSAPIs{policies: true}}
	return r.writePolicyStatuses(ctx, gw, statuses)
}

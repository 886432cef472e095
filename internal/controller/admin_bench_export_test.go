package controller

import (
	"context"
	"errors"

	ctrl "sigs.k8s.io/controller-runtime"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// AdminWork is the admin certificate work of a Gateway reconcile (the check of its admin
// Secrets, its admin client TLS configuration), by a reconciler of its own on mgr's
// client, for the benchmarks of controller_test.
type AdminWork struct{ r *GatewayReconciler }

// NewAdminWork builds an AdminWork with the options o of Setup.
func NewAdminWork(mgr ctrl.Manager, o Options) *AdminWork {
	return &AdminWork{r: &GatewayReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("caddy-gateway-operator"), ControllerName: o.ControllerName,
		Operator: o.Operator, MountGrace: o.MountGrace}}
}

// Run does the work for gw once, with the default admin TLS spec.
func (a *AdminWork) Run(ctx context.Context, gw *gwapiv1.Gateway) error {
	if _, _, err := a.r.ensureAdminCertificates(ctx, gw, nil); err != nil {
		return err
	}
	_, reason, err := a.r.adminClientTLS(ctx, gw)
	if err == nil && reason != "" {
		err = errors.New(reason)
	}
	return err
}

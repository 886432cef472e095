package controller

import (
	"context"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/translator"
)

// Options configure the reconcilers.
type Options struct {
	// ControllerName is the GatewayClass spec.controllerName the operator owns.
	ControllerName gwapiv1.GatewayController
	// CaddyImage is the default data-plane image of provisioned fleets.
	CaddyImage string
	// OperatorImage is the default admin-proxy image (the operator's own image).
	OperatorImage string
	// Operator selects the operator's pods, allowed to Caddy's admin port; its namespace
	// holds the admin channel's CAs, client certificates and cert-manager objects.
	Operator infra.OperatorPods
	// MountGrace is how long a new admin trust bundle is given to reach the pods before
	// the client certificate moves to a new CA. Zero means DefaultMountGrace.
	MountGrace time.Duration
	// PushTimeout bounds one configuration push to one Caddy pod.
	PushTimeout time.Duration
	// RouteStatusAPI limits the requests of the route status writer, made through a client
	// of its own: a burst of route statuses never waits on, nor delays, the requests of the
	// Gateway reconciles. Zero fields take DefaultRouteStatusAPI's.
	RouteStatusAPI APIRate
	// ObserveTranslationInput, when set, is called with the input of every translation
	// of a Gateway, before it is translated; it must only read it. The envtests use it to
	// see what a reconcile loaded when no status shows it.
	ObserveTranslationInput func(*translator.Input)
}

// Setup registers the field indexes and every reconciler with the manager. Route kinds,
// BackendTLSPolicies and ListenerSets whose CRDs are not installed, and ClusterTrustBundles when the
// API server does not serve them, are left out, each with a log line.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	kinds, err := installedRouteKinds(mgr.GetRESTMapper(), mgr.GetLogger().WithName("setup"))
	if err != nil {
		return err
	}
	backendTLS, err := servedBackendTLSAPIs(mgr.GetRESTMapper(), mgr.GetLogger().WithName("setup"))
	if err != nil {
		return err
	}
	listenerSets, err := listenerSetsServed(mgr.GetRESTMapper(), mgr.GetLogger().WithName("setup"))
	if err != nil {
		return err
	}
	if err := setupIndexes(ctx, mgr, o.ControllerName, kinds, backendTLS, listenerSets); err != nil {
		return fmt.Errorf("registering field indexes: %w", err)
	}
	if err := (&GatewayClassReconciler{Client: mgr.GetClient(), ControllerName: o.ControllerName}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the GatewayClass controller: %w", err)
	}
	if err := (&CaddyProxyConfigReconciler{Client: mgr.GetClient(), ControllerName: o.ControllerName}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the CaddyProxyConfig controller: %w", err)
	}
	statusClient, err := newRouteStatusClient(mgr, o.RouteStatusAPI)
	if err != nil {
		return fmt.Errorf("creating the API client of the route status writer: %w", err)
	}
	routeStatus := &RouteStatusReconciler{Client: statusClient, ControllerName: o.ControllerName, routeKinds: kinds}
	if err := routeStatus.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the route status writer: %w", err)
	}
	gw := &GatewayReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("caddy-gateway-operator"),
		Pusher:         pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: o.PushTimeout}, Observe: observePush}),
		RouteStatus:    routeStatus,
		ControllerName: o.ControllerName, CaddyImage: o.CaddyImage, OperatorImage: o.OperatorImage, Operator: o.Operator,
		MountGrace: o.MountGrace, routeKinds: kinds, backendTLS: backendTLS, listenerSets: listenerSets,
		observeInput: o.ObserveTranslationInput,
	}
	routeStatus.holdDuringBursts(&gw.pace)
	if err := gw.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Gateway controller: %w", err)
	}
	return nil
}

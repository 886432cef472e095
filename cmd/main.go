// Command manager runs the Caddy Gateway Operator: the controllers that provision each
// Gateway's Caddy fleet and keep its configuration and status current.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/infra"
)

// DefaultControllerName is the GatewayClass spec.controllerName this operator owns.
const DefaultControllerName = "caddygateway.io/gateway-controller"

func main() {
	if len(os.Args) > 1 && os.Args[1] == adminProxyCommand {
		if err := runAdminProxy(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "admin-proxy:", err)
			os.Exit(1)
		}
		return
	}
	var (
		controllerName string
		metricsAddr    string
		secureMetrics  bool
		enableHTTP2    bool
		probeAddr      string
		pprofAddr      string
		leaderElect    bool
		apiQPS         float64
		apiBurst       int
		statusQPS      float64
		statusBurst    int
		caddyImage     string
		operatorImage  string
		namespace      string
	)
	flag.StringVar(&controllerName, "controller-name", DefaultControllerName,
		"The GatewayClass spec.controllerName this operator reconciles.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"The address the metrics endpoint binds to, e.g. :8443 for HTTPS or :8080 for HTTP; 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with authentication and authorization (TokenReview and SubjectAccessReview).")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Allow HTTP/2 on the metrics server (off by default: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the health probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "",
		"The address Go's pprof profiles are served on, unauthenticated, e.g. 127.0.0.1:6060 for kubectl port-forward; empty (the default) disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false,
		"Enable leader election so that only one replica of the operator is active.")
	flag.StringVar(&caddyImage, "caddy-image", os.Getenv("CADDY_IMAGE"),
		"The default Caddy image of provisioned Gateways (env CADDY_IMAGE).")
	flag.StringVar(&operatorImage, "operator-image", os.Getenv("OPERATOR_IMAGE"),
		"The operator's own image, run as the admin-proxy sidecar (env OPERATOR_IMAGE).")
	flag.StringVar(&namespace, "operator-namespace", os.Getenv("POD_NAMESPACE"),
		"The operator's namespace; only its pods may reach Caddy's admin port (env POD_NAMESPACE).")
	flag.Float64Var(&apiQPS, "kube-api-qps", 50,
		"Queries per second to the API server, but for route status writes.")
	flag.IntVar(&apiBurst, "kube-api-burst", 100, "Burst of queries to the API server, but for route status writes.")
	flag.Float64Var(&statusQPS, "route-status-api-qps", float64(controller.DefaultRouteStatusAPI.QPS),
		"Queries per second of the route status writer, which has a client of its own (one write per changed route status).")
	flag.IntVar(&statusBurst, "route-status-api-burst", controller.DefaultRouteStatusAPI.Burst,
		"Burst of queries of the route status writer.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(ctrl.SetupSignalHandler(), options{
		controllerName: gwapiv1.GatewayController(controllerName),
		metricsAddr:    metricsAddr, secureMetrics: secureMetrics, enableHTTP2: enableHTTP2,
		probeAddr: probeAddr, pprofAddr: pprofAddr, leaderElect: leaderElect, apiQPS: float32(apiQPS), apiBurst: apiBurst,
		setup: controller.Options{
			ControllerName: gwapiv1.GatewayController(controllerName),
			CaddyImage:     caddyImage, OperatorImage: operatorImage,
			Operator:       infra.OperatorPods{Namespace: namespace, Labels: OperatorPodLabels},
			RouteStatusAPI: controller.APIRate{QPS: float32(statusQPS), Burst: statusBurst},
		},
	}); err != nil {
		ctrl.Log.Error(err, "Manager exited")
		os.Exit(1)
	}
}

type options struct {
	controllerName gwapiv1.GatewayController
	metricsAddr    string
	secureMetrics  bool
	enableHTTP2    bool
	probeAddr      string
	pprofAddr      string
	leaderElect    bool
	apiQPS         float32
	apiBurst       int
	setup          controller.Options
}

// OperatorPodLabels select the operator's pods (config/manager sets them).
var OperatorPodLabels = map[string]string{
	"app.kubernetes.io/name": "caddy-gateway-operator",
	"control-plane":          "controller-manager",
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwapiv1.Install(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

func run(ctx context.Context, o options) error {
	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.secureMetrics, TLSOpts: tlsOpts}
	if o.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	restCfg := ctrl.GetConfigOrDie()
	restCfg.QPS, restCfg.Burst = o.apiQPS, o.apiBurst
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       "caddy-gateway-operator.caddygateway.io",
		Cache:                  controller.CacheOptions(),
	})
	if err != nil {
		return err
	}
	if o.setup.CaddyImage == "" || o.setup.OperatorImage == "" || o.setup.Operator.Namespace == "" {
		return errors.New("--caddy-image, --operator-image and --operator-namespace are required (or CADDY_IMAGE, OPERATOR_IMAGE, POD_NAMESPACE)")
	}
	if err := controller.Setup(ctx, mgr, o.setup); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("Starting manager", "controllerName", o.controllerName)
	return mgr.Start(ctx)
}

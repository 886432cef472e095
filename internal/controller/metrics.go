package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	pushDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "caddygateway_push_duration_seconds",
		Help:    "Duration of one configuration push to one Caddy pod.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	})
	pushFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caddygateway_push_failures_total",
		Help: "Configuration pushes to a Caddy pod that failed or that Caddy rejected.",
	})
	pushBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caddygateway_push_bytes_total",
		Help: "Bytes sent to Caddy pods: frames and route table changes.",
	})
	configSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "caddygateway_config_size_bytes",
		Help:    "Size of the Caddy configurations rendered for Gateways: the frame and every host table.",
		Buckets: prometheus.ExponentialBuckets(1024, 4, 10),
	})
)

// Reconcile durations and counts per controller are controller-runtime's own
// controller_runtime_reconcile_time_seconds and controller_runtime_reconcile_total.
func init() {
	metrics.Registry.MustRegister(pushDuration, pushFailures, pushBytes, configSize)
}

// observePush records one push in the operator's metrics.
func observePush(d time.Duration, err error) {
	pushDuration.Observe(d.Seconds())
	if err != nil {
		pushFailures.Inc()
	}
}

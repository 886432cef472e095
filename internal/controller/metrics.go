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
)

func init() {
	metrics.Registry.MustRegister(pushDuration, pushFailures)
}

// observePush records one push in the operator's metrics.
func observePush(d time.Duration, err error) {
	pushDuration.Observe(d.Seconds())
	if err != nil {
		pushFailures.Inc()
	}
}

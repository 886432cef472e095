package controller

import (
	"cmp"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// APIRate is a client's limit of requests to the API server.
type APIRate struct {
	// QPS is the sustained rate of requests per second.
	QPS float32
	// Burst is how many requests may go at once above QPS.
	Burst int
}

// DefaultRouteStatusAPI lets a burst of a thousand new routes have their statuses within
// a few seconds: one write each.
var DefaultRouteStatusAPI = APIRate{QPS: 200, Burst: 400}

// routeStatusConfig is base with a rate limiter of its own at rate (zero fields:
// DefaultRouteStatusAPI's).
func routeStatusConfig(base *rest.Config, rate APIRate) *rest.Config {
	c := rest.CopyConfig(base)
	c.RateLimiter = nil // a limiter set on base would be shared by the copy
	c.QPS = cmp.Or(rate.QPS, DefaultRouteStatusAPI.QPS)
	c.Burst = cmp.Or(rate.Burst, DefaultRouteStatusAPI.Burst)
	return c
}

// newRouteStatusClient returns the route status writer's client: it reads from the
// manager's cache and writes through connections and a rate limiter of its own.
func newRouteStatusClient(mgr ctrl.Manager, rate APIRate) (client.Client, error) {
	return client.New(routeStatusConfig(mgr.GetConfig(), rate), client.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		Cache: &client.CacheOptions{Reader: mgr.GetCache()},
	})
}

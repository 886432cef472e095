package controller

import (
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// TestRouteStatusConfig: the route status writer's configuration has a rate limiter of
// its own, at its own rate, and leaves the manager's configuration as it was.
func TestRouteStatusConfig(t *testing.T) {
	shared := flowcontrol.NewTokenBucketRateLimiter(5, 10)
	base := &rest.Config{Host: "https://api.example", QPS: 5, Burst: 10, RateLimiter: shared}

	got := routeStatusConfig(base, APIRate{})
	if got.RateLimiter != nil || got.QPS != DefaultRouteStatusAPI.QPS || got.Burst != DefaultRouteStatusAPI.Burst {
		t.Fatalf("default: limiter %v, QPS %v, burst %d; want none of its own yet, %v, %d",
			got.RateLimiter, got.QPS, got.Burst, DefaultRouteStatusAPI.QPS, DefaultRouteStatusAPI.Burst)
	}
	if got.Host != base.Host {
		t.Fatalf("host %q; want the manager's %q", got.Host, base.Host)
	}
	got = routeStatusConfig(base, APIRate{QPS: 30, Burst: 60})
	if got.QPS != 30 || got.Burst != 60 {
		t.Fatalf("QPS %v, burst %d; want 30, 60", got.QPS, got.Burst)
	}
	if base.RateLimiter != shared || base.QPS != 5 || base.Burst != 10 {
		t.Fatalf("the manager's configuration changed: limiter %v, QPS %v, burst %d", base.RateLimiter, base.QPS, base.Burst)
	}
}

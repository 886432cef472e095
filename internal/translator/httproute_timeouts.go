package translator

import (
	"regexp"
	"slices"
	"time"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// gepDurationRE is the Gateway API Duration syntax (GEP-2257).
var gepDurationRE = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// parseDuration parses a Gateway API Duration; ok is false when it is malformed.
func parseDuration(d gwapiv1.Duration) (ir.Duration, bool) {
	if !gepDurationRE.MatchString(string(d)) {
		return 0, false
	}
	v, err := time.ParseDuration(string(d))
	return ir.Duration(v), err == nil
}

// convertTimeouts converts a rule's timeouts; "0s" disables a timeout (zero in the IR).
func convertTimeouts(tm *gwapiv1.HTTPRouteTimeouts, ruleIdx int, bad *problems) *ir.Timeouts {
	if tm == nil {
		return nil
	}
	out := &ir.Timeouts{}
	for _, f := range []struct {
		name string
		in   *gwapiv1.Duration
		out  *ir.Duration
	}{{"request", tm.Request, &out.Request}, {"backendRequest", tm.BackendRequest, &out.BackendRequest}} {
		if f.in == nil {
			continue
		}
		d, ok := parseDuration(*f.in)
		if !ok {
			bad.addf("rules[%d].timeouts.%s: %q is not a Gateway API duration", ruleIdx, f.name, *f.in)
		}
		*f.out = d
	}
	if out.Request != 0 && out.BackendRequest > out.Request {
		bad.addf("rules[%d].timeouts: backendRequest %s is longer than request %s", ruleIdx, *tm.BackendRequest, *tm.Request)
	}
	if *out == (ir.Timeouts{}) {
		return nil
	}
	return out
}

// convertRetry converts a rule's retry; attempts defaults to 1 (the API default) and
// an explicit 0 disables retries.
func convertRetry(r *gwapiv1.HTTPRouteRetry, ruleIdx int, bad *problems) *ir.Retry {
	if r == nil {
		return nil
	}
	out := &ir.Retry{Attempts: 1}
	if r.Attempts != nil {
		out.Attempts = *r.Attempts
	}
	for _, c := range r.Codes {
		if c < 400 || c > 599 {
			bad.addf("rules[%d].retry.codes: %d is not a 4xx or 5xx status code", ruleIdx, c)
			continue
		}
		out.Codes = append(out.Codes, int(c))
	}
	slices.Sort(out.Codes)
	out.Codes = slices.Compact(out.Codes)
	if r.Backoff != nil {
		d, ok := parseDuration(*r.Backoff)
		if !ok {
			bad.addf("rules[%d].retry.backoff: %q is not a Gateway API duration", ruleIdx, *r.Backoff)
		}
		out.Backoff = d
	}
	if out.Attempts < 0 {
		bad.addf("rules[%d].retry.attempts: %d must not be negative", ruleIdx, out.Attempts)
	}
	if out.Attempts <= 0 {
		return nil
	}
	return out
}

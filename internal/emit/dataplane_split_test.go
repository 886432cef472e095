package emit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/caddy-gateway/operator/internal/emit"
)

// smoothSplitFixture has 95/5 and 90/10 splits between a stable and a canary backend:
// plain (one reverse_proxy choosing) and with backendRef filters (gateway_split
// choosing a branch), for HTTPRoute and GRPCRoute, and an unrelated route whose path
// is CHURN, which the test changes with every reload. Each filtered branch tells its
// backend its own name (x-branch, x-from-gateway). The kinds have hostnames of their
// own: an HTTPRoute and a GRPCRoute on the same hostname conflict.
const smoothSplitFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: stable, namespace: default}
spec: {ports: [{port: 8080}, {name: grpc, port: 9000, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary, namespace: default}
spec: {ports: [{port: 8080}, {name: grpc, port: 9000, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [http.example.com]
  rules:
  - matches: [{path: {value: /plain-95}}]
    backendRefs: [{name: stable, port: 8080, weight: 95}, {name: canary, port: 8080, weight: 5}]
  - matches: [{path: {value: /plain-90}}]
    backendRefs: [{name: stable, port: 8080, weight: 90}, {name: canary, port: 8080, weight: 10}]
  - matches: [{path: {value: /filtered-95}}]
    backendRefs:
    - {name: stable, port: 8080, weight: 95, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-branch, value: stable}]}}]}
    - {name: canary, port: 8080, weight: 5, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-branch, value: canary}]}}]}
  - matches: [{path: {value: /filtered-90}}]
    backendRefs:
    - {name: stable, port: 8080, weight: 90, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-branch, value: stable}]}}]}
    - {name: canary, port: 8080, weight: 10, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-branch, value: canary}]}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc-split, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{headers: [{name: x-split, value: plain-95}]}]
    backendRefs: [{name: stable, port: 9000, weight: 95}, {name: canary, port: 9000, weight: 5}]
  - matches: [{headers: [{name: x-split, value: plain-90}]}]
    backendRefs: [{name: stable, port: 9000, weight: 90}, {name: canary, port: 9000, weight: 10}]
  - matches: [{headers: [{name: x-split, value: filtered-95}]}]
    backendRefs:
    - {name: stable, port: 9000, weight: 95, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-from-gateway, value: stable}]}}]}
    - {name: canary, port: 9000, weight: 5, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-from-gateway, value: canary}]}}]}
  - matches: [{headers: [{name: x-split, value: filtered-90}]}]
    backendRefs:
    - {name: stable, port: 9000, weight: 90, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-from-gateway, value: stable}]}}]}
    - {name: canary, port: 9000, weight: 10, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-from-gateway, value: canary}]}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: unrelated, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [http.example.com]
  rules:
  - matches: [{path: {value: /churn-CHURN}}]
    backendRefs: [{name: stable, port: 8080}]
`

const (
	// splitRounds is how many requests each split gets; every split's sequence is
	// checked over each of its windows of splitWindow consecutive requests.
	splitRounds, splitWindow = 300, 100
	// reloadEvery is how many requests (of all splits together) pass between reloads.
	reloadEvery = 10
	// splitSlack is how far a window's canary count may be from the canary's weight.
	splitSlack = 2
)

// httpGet sends GET path with the host of the fixture's HTTPRoutes.
func httpGet(d *dataPlane, path string) (*http.Response, error) {
	req, err := http.NewRequest("GET", d.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = "http.example.com"
	return d.client.Do(req)
}

// retry calls send until it succeeds, at most three times, counting the failures in
// resets (see smoothSplits).
func retry(t *testing.T, resets *int, what string, send func() error) {
	t.Helper()
	for try := 0; ; try++ {
		err := send()
		if err == nil {
			return
		}
		if try == 2 {
			t.Fatalf("%s: %v", what, err)
		}
		*resets++
	}
}

// smoothSplit is one split of smoothSplitFixture: its canary's weight (of 100) and how
// one request through it is sent, answering the backend that served it.
type smoothSplit struct {
	name   string
	canary int
	send   func(t *testing.T) string
}

// TestDataPlaneSmoothSplits sends requests through every split while an unrelated route
// of the HTTPRoutes' host changes every reloadEvery requests (see reload), so that Caddy
// provisions that host table, the splits' handlers included, again: in every window of
// 100 consecutive requests of a split, the canary gets its weight ±2. Caddy's
// weighted_round_robin would send the first 95 (or 90) requests after each change to the
// stable backend, and the canary nothing.
func TestDataPlaneSmoothSplits(t *testing.T) {
	backends := map[string]string{
		"stable.default.svc.cluster.local:8080": echoBackend(t, "stable").Listener.Addr().String(),
		"canary.default.svc.cluster.local:8080": echoBackend(t, "canary").Listener.Addr().String(),
		"stable.default.svc.cluster.local:9000": grpcBackend(t, "stable"),
		"canary.default.svc.cluster.local:9000": grpcBackend(t, "canary"),
	}
	churned := func(n int) string { return strings.ReplaceAll(smoothSplitFixture, "CHURN", fmt.Sprint(n)) }
	d := startDataPlane(t, churned(0), backends)
	d.client.Transport = &http.Transport{DisableKeepAlives: true}
	push := startAdminPush(t, d)
	var resets int
	splits := smoothSplits(t, d, &resets)

	seqs := make([][]string, len(splits))
	reloads, sent := 0, 0
	start := time.Now()
	for range splitRounds {
		for i, s := range splits {
			seqs[i] = append(seqs[i], s.send(t))
			if sent++; sent%reloadEvery == 0 {
				reloads++
				reload(t, push, d.config(churned(reloads)), reloads)
			}
		}
	}
	t.Logf("%d requests, %d reloads in %v; %d connections reset and retried", sent, reloads,
		time.Since(start).Round(time.Millisecond), resets)
	// The reloads took effect: the unrelated route is at its last path.
	for path, want := range map[string]int{fmt.Sprintf("/churn-%d", reloads): 200, fmt.Sprintf("/churn-%d", reloads-1): 404} {
		var code int
		retry(t, &resets, "GET "+path, func() error {
			resp, err := httpGet(d, path)
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			return err
		})
		if code != want {
			t.Errorf("GET %s: status %d, want %d", path, code, want)
		}
	}

	for i, s := range splits {
		lo, hi := canaryWindows(seqs[i])
		t.Logf("%s: canary got %d to %d of every %d consecutive requests (weight %d)", s.name, lo, hi, splitWindow, s.canary)
		if lo < s.canary-splitSlack || hi > s.canary+splitSlack {
			t.Errorf("%s: canary got %d to %d of %d consecutive requests, want %d ±%d", s.name, lo, hi, splitWindow, s.canary, splitSlack)
		}
	}
}

// reload loads the n-th config: the first through the admin-proxy (as the operator
// pushes), the others with caddy.Load, which runs the same config change
// as /load without an admin request. Caddy v2.11.9 replaces its admin server on every
// load, and a /load over the admin unix socket was seen to deadlock that replacement
// about once in a thousand loads; hundreds of pushes per run would make the test flaky.
//
// The host tables go to the admin socket first, replacing all others (loadResult):
// their admin path does not replace the admin server.
func reload(t *testing.T, push *adminPush, res emit.Result, n int) {
	t.Helper()
	if n == 1 {
		push.load(t, res)
		return
	}
	loadResult(t, res, push.adminListen, false)
}

// canaryWindows returns the least and most canary answers in any splitWindow
// consecutive entries of seq.
func canaryWindows(seq []string) (lo, hi int) {
	lo = splitWindow + 1
	for start := 0; start+splitWindow <= len(seq); start++ {
		n := 0
		for _, b := range seq[start : start+splitWindow] {
			if b == "canary" {
				n++
			}
		}
		lo, hi = min(lo, n), max(hi, n)
	}
	return lo, hi
}

// smoothSplits are the splits of smoothSplitFixture, sending through d. A request whose
// connection fails before an answer is sent again and counted in resets: about one
// reload in ten resets a connection that arrives while Caddy replaces its listeners
// (they use SO_REUSEPORT, and connections queued on a closing socket are dropped).
// That is Caddy's reload, not the split; the split is measured on answered requests.
func smoothSplits(t *testing.T, d *dataPlane, resets *int) []smoothSplit {
	conn, err := grpc.NewClient("127.0.0.1:"+d.port(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("grpc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := healthpb.NewHealthClient(conn)
	var out []smoothSplit
	for _, kind := range []string{"plain", "filtered"} {
		for _, canary := range []int{5, 10} {
			split := fmt.Sprintf("%s-%d", kind, 100-canary)
			filtered := kind == "filtered"
			out = append(out, smoothSplit{name: "HTTPRoute " + split, canary: canary, send: func(t *testing.T) string {
				t.Helper()
				var e echo
				retry(t, resets, "GET /"+split, func() error {
					resp, err := httpGet(d, "/"+split)
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Fatalf("GET /%s: status %d", split, resp.StatusCode)
					}
					return json.NewDecoder(resp.Body).Decode(&e)
				})
				if filtered && e.Header.Get("X-Branch") != e.Backend {
					t.Fatalf("%s: %s saw the filters of branch %q", split, e.Backend, e.Header.Get("X-Branch"))
				}
				return e.Backend
			}}, smoothSplit{name: "GRPCRoute " + split, canary: canary, send: func(t *testing.T) string {
				t.Helper()
				var hdr metadata.MD
				retry(t, resets, split+": Check", func() error {
					ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-split", split), 5*time.Second)
					defer cancel()
					_, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr), grpc.WaitForReady(true))
					if err != nil && status.Code(err) != codes.Unavailable {
						t.Fatalf("%s: Check: %v", split, err)
					}
					return err
				})
				b := first(hdr.Get("x-backend"))
				if saw := first(hdr.Get("x-saw-from-gateway")); filtered && saw != b {
					t.Fatalf("%s: %s saw the filters of branch %q", split, b, saw)
				}
				return b
			}})
		}
	}
	return out
}

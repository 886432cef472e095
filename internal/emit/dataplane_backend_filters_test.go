package emit_test

import (
	"fmt"
	"testing"
)

// backendFiltersFixture puts filters on backendRefs: they must run only for the
// requests sent to that backend.
const backendFiltersFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: v1, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: v2, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: shadow, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-filters, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /weighted}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-rule, value: "yes"}]}
    backendRefs:
    - name: v1
      port: 8080
      weight: 3
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: backend, value: "v1 {env.HOME}"}], remove: [x-rule]}
      - type: ResponseHeaderModifier
        responseHeaderModifier: {add: [{name: x-served-by, value: v1}]}
    - name: v2
      port: 8080
      weight: 1
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: backend, value: v2}]}
      - type: RequestMirror
        requestMirror: {backendRef: {name: shadow, port: 8080}}
    - {name: missing, port: 8080, weight: 1}
  - matches: [{path: {value: /full}}]
    backendRefs:
    - name: v1
      port: 8080
      filters:
      - type: URLRewrite
        urlRewrite: {hostname: full.example.com, path: {type: ReplaceFullPath, replaceFullPath: /rewritten-full}}
  - matches: [{path: {value: /prefix}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rule.example.com}
    backendRefs:
    - name: v1
      port: 8080
      filters:
      - type: URLRewrite
        urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /rewritten-prefix}}
    - {name: v2, port: 8080}
  - matches: [{path: {value: /redirect-split}}]
    backendRefs:
    - name: v1
      port: 8080
      filters:
      - type: RequestRedirect
        requestRedirect: {hostname: moved.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /moved}, statusCode: 301}
    - name: v2
      port: 8080
      filters:
      - type: CORS
        cors: {allowOrigins: ["https://app.example.com"], allowMethods: [GET]}
`

// TestDataPlaneBackendFilters shows backendRef filters (header modifiers, URLRewrite,
// RequestMirror) applied to the requests of their backend only, with the weighted
// split between backends kept.
func TestDataPlaneBackendFilters(t *testing.T) {
	v1, v2, shadow := echoBackend(t, "v1"), echoBackend(t, "v2"), newMirrorSink(t)
	d := startDataPlane(t, backendFiltersFixture, map[string]string{
		"v1.default.svc.cluster.local:8080":     v1.Listener.Addr().String(),
		"v2.default.svc.cluster.local:8080":     v2.Listener.Addr().String(),
		"shadow.default.svc.cluster.local:8080": shadow.Listener.Addr().String(),
	})
	t.Run("HTTPRouteBackendRequestHeaderModification", func(t *testing.T) {
		// Weights 3:1:1 (the last backend is missing and answers 500), two full rounds.
		counts := map[string]int{}
		for range 10 {
			resp, e := d.do("GET", "/weighted", nil)
			switch {
			case resp.StatusCode == 500:
				counts["500"]++
				continue
			case resp.StatusCode != 200:
				t.Fatalf("status %d", resp.StatusCode)
			}
			counts[e.Backend]++
			served := resp.Header.Get("X-Served-By")
			switch e.Backend {
			case "v1":
				if got := e.Header.Get("Backend"); got != "v1 {env.HOME}" || e.Header.Get("X-Rule") != "" || served != "v1" {
					t.Errorf("v1 saw Backend %q X-Rule %q, answered X-Served-By %q; want %q, none, v1",
						got, e.Header.Get("X-Rule"), served, "v1 {env.HOME}")
				}
			case "v2":
				if got := e.Header.Get("Backend"); got != "v2" || e.Header.Get("X-Rule") != "yes" || served != "" {
					t.Errorf("v2 saw Backend %q X-Rule %q, answered X-Served-By %q; want v2, yes, none",
						got, e.Header.Get("X-Rule"), served)
				}
			}
		}
		if counts["v1"] != 6 || counts["v2"] != 2 || counts["500"] != 2 {
			t.Errorf("split %v, want v1:6 v2:2 500:2", counts)
		}
		// Only v2's requests are mirrored.
		shadow.waitFor(t, "/weighted", 2)
		if n := shadow.settle("/weighted"); n != 2 {
			t.Errorf("shadow got %d copies, want 2 (v2's share)", n)
		}
	})
	t.Run("HTTPRouteBackendURLRewrite", func(t *testing.T) {
		e := d.expect("GET", "/full/original", nil, 200)
		if e.Backend != "v1" || e.Path != "/rewritten-full" || e.Host != "full.example.com" {
			t.Errorf("full rewrite reached %s %s host %s, want v1 /rewritten-full full.example.com", e.Backend, e.Path, e.Host)
		}
		seen := map[string]string{}
		for range 2 {
			e := d.expect("GET", "/prefix/original", nil, 200)
			seen[e.Backend] = e.Path
			if e.Host != "rule.example.com" {
				t.Errorf("%s saw host %q, want the rule's rule.example.com", e.Backend, e.Host)
			}
		}
		if seen["v1"] != "/rewritten-prefix/original" || seen["v2"] != "/prefix/original" {
			t.Errorf("prefix rewrite: paths by backend %v, want v1 rewritten, v2 not", seen)
		}
	})
	t.Run("BackendRedirectAndCORS", func(t *testing.T) {
		// Weights 1:1: one request is redirected (v1's filter), the other reaches v2
		// and gets v2's CORS headers; neither gets the other's.
		got := map[int]int{}
		for range 2 {
			resp, e := d.do("GET", "/redirect-split/x?q=1", map[string]string{"Origin": "https://app.example.com"})
			got[resp.StatusCode]++
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			switch resp.StatusCode {
			case 301:
				if loc, want := resp.Header.Get("Location"), fmt.Sprintf("http://moved.example.com:%s/moved/x?q=1", d.port()); loc != want || acao != "" {
					t.Errorf("redirect: Location %q, CORS origin %q; want %q and none", loc, acao, want)
				}
			case 200:
				if e.Backend != "v2" || acao != "https://app.example.com" {
					t.Errorf("forwarded to %q with CORS origin %q, want v2 with https://app.example.com", e.Backend, acao)
				}
			}
		}
		if got[301] != 1 || got[200] != 1 {
			t.Errorf("statuses %v, want one 301 and one 200", got)
		}
	})
}

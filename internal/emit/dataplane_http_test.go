package emit_test

import (
	"testing"
)

// dataPlaneFixture exercises every HTTPRoute feature the translator claims, one path each.
const dataPlaneFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: features, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /foo}}, {path: {type: Exact, value: /Exact}}, {path: {type: RegularExpression, value: "/re/[0-9]+"}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /hdr}, headers: [{name: X-Env, value: prod}]}, {path: {value: /hdr-re}, headers: [{type: RegularExpression, name: X-Ver, value: "v[0-9]+"}]}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /query}, queryParams: [{name: debug, value: "1"}]}, {path: {value: /query-re}, queryParams: [{type: RegularExpression, name: q, value: "a.*"}]}, {path: {value: /query-all}, queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /method}, method: POST}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /mod}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: "{env.HOME}"}], add: [{name: X-Add, value: "{file./etc/passwd}"}], remove: [X-Remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Resp, value: "{env.HOME}"}], remove: [X-Backend-Resp]}
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /redir-scheme}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: example.org, statusCode: 301}}]
  - matches: [{path: {value: /redir-full}}]
    filters: [{type: RequestRedirect, requestRedirect: {port: 8443, path: {type: ReplaceFullPath, replaceFullPath: "/{env.HOME}"}}}]
  - matches: [{path: {value: /redir-prefix}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 308}}]
  - matches: [{path: {value: /rw-full}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: rewritten.example.com, path: {type: ReplaceFullPath, replaceFullPath: "/new-{env.HOME}"}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /rw-prefix}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /one}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /rw-strip}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /weights}}]
    backendRefs: [{name: a, port: 8080, weight: 3}, {name: b, port: 8080, weight: 1}, {name: a, port: 8080, weight: 0}]
  - matches: [{path: {value: /invalid}}]
    backendRefs: [{name: missing, port: 8080}]
  - matches: [{path: {value: /half}}]
    backendRefs: [{name: a, port: 8080}, {name: missing, port: 8080}]
  - matches: [{path: {type: Exact, value: "/{env.HOME}"}}]
    backendRefs: [{name: b, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hosts, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [exact.example.com, "*.wild.example.com"]
  rules:
  - matches: [{path: {value: /host-only}}]
    backendRefs: [{name: b, port: 8080}]
`

// TestDataPlaneHTTP loads the fixture into a real Caddy and checks each feature with
// HTTP requests. Caddy is a process-wide singleton: data-plane tests run sequentially.
func TestDataPlaneHTTP(t *testing.T) {
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	d := startDataPlane(t, dataPlaneFixture, map[string]string{
		"a.default.svc.cluster.local:8080": a.Listener.Addr().String(),
		"b.default.svc.cluster.local:8080": b.Listener.Addr().String(),
	})
	cases := map[string]func(t *testing.T, d *dataPlane){
		"HTTPRoute/pathPrefixBoundary": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/foo", nil, 200)
			d.expect("GET", "/foo/bar", nil, 200)
			d.expect("GET", "/foobar", nil, 404)
		},
		"HTTPRoute/exactCaseSensitive": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/Exact", nil, 200)
			d.expect("GET", "/exact", nil, 404)
			d.expect("GET", "/Exact/x", nil, 404)
		},
		"HTTPRoute/regexPath": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/re/42", nil, 200)
			d.expect("GET", "/re/x", nil, 404)
		},
		"HTTPRoute/unmatched404":   func(t *testing.T, d *dataPlane) { d.expect("GET", "/nothing", nil, 404) },
		"readinessServer":          testReadiness,
		"HTTPRoute/headerMatching": testHeaderMatching,
		"HTTPRouteQueryParamMatching": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/query?debug=1", nil, 200)
			d.expect("GET", "/query?debug=2", nil, 404)
			d.expect("GET", "/query", nil, 404)
			d.expect("GET", "/query-re?q=abc", nil, 200)
			d.expect("GET", "/query-re?q=xa", nil, 404)
			// Several query parameters are AND-ed.
			d.expect("GET", "/query-all?animal=dolphin&color=blue", nil, 200)
			d.expect("GET", "/query-all?color=blue&animal=dolphin&x=1", nil, 200)
			d.expect("GET", "/query-all?animal=dolphin", nil, 404)
			d.expect("GET", "/query-all?color=blue", nil, 404)
			d.expect("GET", "/query-all?animal=dolphin&color=yellow", nil, 404)
		},
		"HTTPRouteMethodMatching": func(t *testing.T, d *dataPlane) {
			d.expect("POST", "/method", nil, 200)
			d.expect("GET", "/method", nil, 404)
		},
		"HTTPRoute/requestHeaderModifier+HTTPRouteResponseHeaderModification": testHeaderModifiers,
		"HTTPRouteSchemeRedirect+PortRedirect+PathRedirect":                   testRedirects,
		"HTTPRoutePathRewrite+HTTPRouteHostRewrite":                           testRewrites,
		"HTTPRoute/weights":           testWeights,
		"HTTPRoute/invalidBackend500": testInvalidBackends,
		"HTTPRoute/hostnames": func(t *testing.T, d *dataPlane) {
			d.expect("GET", "/host-only", map[string]string{"Host": "exact.example.com"}, 200)
			d.expect("GET", "/host-only", map[string]string{"Host": "EXACT.example.com:8080"}, 200)
			d.expect("GET", "/host-only", map[string]string{"Host": "a.b.wild.example.com"}, 200)
			d.expect("GET", "/host-only", map[string]string{"Host": "wild.example.com"}, 404)
			d.expect("GET", "/host-only", map[string]string{"Host": "other.example.com"}, 404)
		},
		"placeholderEscapingInPaths": func(t *testing.T, d *dataPlane) {
			e := d.expect("GET", "/%7Benv.HOME%7D", nil, 200)
			if e.Backend != "b" {
				t.Errorf("literal {env.HOME} path went to %q, want b", e.Backend)
			}
		},
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) { d.t = t; cases[name](t, d) })
	}
}

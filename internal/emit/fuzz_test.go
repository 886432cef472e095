package emit_test

import (
	"cmp"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// FuzzTranslateEmit translates Gateways built from fuzz input (fuzzInput: the shape
// from one byte string, the user's text from the others), emits them, and requires that
// nothing panics (nor recovers from a panic while checking a route), that emitting
// succeeds and that Caddy's own validation accepts the config: whatever routes hold, the
// Gateway stays programmable. The seeds include patterns valid alone but not as Caddy
// compiles them, and a redirect without path beside a path rewrite.
func FuzzTranslateEmit(f *testing.F) {
	seeds := []fuzzText{
		{path: "/a", header: "v", query: "q", service: "pkg.Svc", method: "Get", host: "a.example.com", value: "x"},
		{path: `/b\Q`, header: `v\Q`, query: `\Q`, service: `pkg\Q`, method: `Get\Q`, host: "*.example.com", value: "{env.HOME}"},
		{path: `/x)|(.*`, header: `[bad`, query: `a(b`, service: `a)|(b`, method: `\E)`, host: "b.example.com", value: "/{file./etc/passwd}"},
		{path: "/t", header: "GET", query: "X-B", service: "s", method: "m", host: "b.example.com:0", value: "1s"},
		{path: "/p/", header: `\Qa(b\E`, query: `.*`, service: `pkg\Q.\EV[0-9]`, method: `Get\Q*\E`, host: "*", value: "\r\nX: y"},
	}
	shapes := [][]byte{
		{},
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
		{0xff, 0x80, 0x7f, 0x40, 0x33, 0x22, 0x11, 0x05, 0xfe, 0x9a, 0x61, 0x13, 0x37, 0x42, 0x24, 0x99, 0x07, 0x70},
		// One listener, one route, one rule: an Exact match; a redirect without path and a
		// rewrite with ReplacePrefixMatch.
		{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 2, 1, 0, 2, 2, 0, 0},
		// HTTP and gRPC rules with valid and invalid backends, which speak TLS (a last
		// byte of 0x80 or more, see fuzzBackendTLS), with a client certificate (odd).
		{7, 7, 0, 7, 6, 2, 1, 7, 0, 3, 6, 2, 4, 2, 4, 7, 0, 4, 1, 3, 7, 7, 1, 0x81},
		{2, 3, 3, 0, 5, 1, 0, 1, 2, 0, 7, 3, 6, 5, 4, 7, 4, 6, 7, 3, 0, 3, 3, 0x80},
	}
	for _, s := range seeds {
		for _, shape := range shapes {
			f.Add(shape, s.path, s.header, s.query, s.service, s.method, s.host, s.value)
		}
	}
	f.Fuzz(func(t *testing.T, shape []byte, path, header, query, service, method, host, value string) {
		text := fuzzText{path: path, header: header, query: query, service: service, method: method, host: host, value: value}
		in := fuzzInput(shape, text)
		out := translator.Translate(in)
		for _, r := range out.Routes {
			for _, p := range r.Parents {
				for _, c := range p.Conditions {
					if strings.Contains(c.Message, "internal error") {
						t.Fatalf("%s %s/%s: a check panicked: %s", r.Kind, r.Namespace, r.Name, c.Message)
					}
				}
			}
		}
		fuzzBackendTLS(out.IR, shape, text)
		res, err := emit.Emit(out.IR, emit.Options{})
		if err != nil {
			t.Fatalf("emit: %v", err)
		}
		if err := checkTables(res); err != nil {
			t.Fatal(err)
		}
		if err := caddyValidateResult(res); err != nil {
			t.Fatalf("%v\nconfig: %s\ntables: %s", err, res.JSON, tablesRoutes(res))
		}
	})
}

// fuzzBackendTLS gives every HTTP and gRPC backend TLS when the shape's last byte is
// 0x80 or more: the host as server name, the value and the path as subject alt names
// (DNS and URI), and a client certificate on odd last bytes.
func fuzzBackendTLS(g *ir.Gateway, shape []byte, text fuzzText) {
	if len(shape) == 0 || shape[len(shape)-1] < 0x80 {
		return
	}
	t := &ir.BackendTLS{ServerName: cmp.Or(text.host, "s"), TrustedCAs: []string{fixture.CertPEM}}
	if text.value != "" {
		t.SubjectAltNames = append(t.SubjectAltNames, ir.SubjectAltName{Hostname: text.value})
	}
	if text.path != "" {
		t.SubjectAltNames = append(t.SubjectAltNames, ir.SubjectAltName{URI: text.path})
	}
	if shape[len(shape)-1]&1 == 1 {
		t.ClientCertificate = backendClientCert.Name
		g.Certificates = append(g.Certificates, backendClientCert)
	}
	all := map[string]*ir.BackendTLS{}
	for i := range g.HTTP {
		for j := range g.HTTP[i].Listeners {
			for _, h := range g.HTTP[i].Listeners[j].Hosts {
				for _, r := range h.Routes {
					for _, b := range r.Action.Backends {
						all[b.Address] = t
					}
				}
			}
		}
	}
	setBackendTLS(g, all)
}

// fuzzText is the user's text in a fuzzed input.
type fuzzText struct{ path, header, query, service, method, host, value string }

// shapeReader hands out the bytes of a fuzzed shape; 0 once they are used up.
type shapeReader struct{ b []byte }

func (r *shapeReader) next() int {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return int(c)
}

// pick is one of choices.
func pick[T any](r *shapeReader, choices ...T) T { return choices[r.next()%len(choices)] }

// fuzzInput builds a Gateway with HTTP and HTTPS listeners, Services of every type, and
// HTTPRoutes and GRPCRoutes from two namespaces whose matches, filters and backends
// the shape chooses and whose strings come from text.
func fuzzInput(shape []byte, text fuzzText) translator.Input {
	r := &shapeReader{b: shape}
	in := translator.Input{ControllerName: fixture.ControllerName, Gateway: fuzzGateway(r, text)}
	in.Secrets = []corev1.Secret{{
		ObjectMeta: metav1.ObjectMeta{Name: "cert", Namespace: "default"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte(fixture.CertPEM), corev1.TLSPrivateKeyKey: []byte(fixture.KeyPEM)},
	}}
	h2c := "kubernetes.io/h2c"
	for _, ns := range []string{"ns-a", "ns-b"} {
		in.Services = append(in.Services,
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc", Namespace: ns},
				Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1", Ports: []corev1.ServicePort{{Port: 8080}}}},
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "headless", Namespace: ns},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 8080}}}},
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "grpc", Namespace: ns},
				Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.2", Ports: []corev1.ServicePort{{Port: 9000, AppProtocol: &h2c}}}},
			corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: ns},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: text.host, Ports: []corev1.ServicePort{{Port: 8080}}}},
		)
	}
	for i := range 1 + r.next()%4 {
		in.HTTPRoutes = append(in.HTTPRoutes, fuzzHTTPRoute(r, text, i))
	}
	for i := range r.next() % 3 {
		in.GRPCRoutes = append(in.GRPCRoutes, fuzzGRPCRoute(r, text, i))
	}
	return in
}

func fuzzGateway(r *shapeReader, text fuzzText) *gwapiv1.Gateway {
	all := gwapiv1.NamespacesFromAll
	allowed := &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &all}}
	gw := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "default", Generation: 1}}
	for i := range 1 + r.next()%3 {
		l := gwapiv1.Listener{Name: gwapiv1.SectionName(fmt.Sprintf("l%d", i)), Port: pick[gwapiv1.PortNumber](r, 80, 8080, 443),
			Protocol: gwapiv1.HTTPProtocolType, AllowedRoutes: allowed}
		if h := pick(r, "", "*.example.com", "a.example.com", text.host); h != "" {
			hn := gwapiv1.Hostname(h)
			l.Hostname = &hn
		}
		if l.Port == 443 {
			l.Protocol = gwapiv1.HTTPSProtocolType
			l.TLS = &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "cert"}}}
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, l)
	}
	return gw
}

// routeMeta names route i of kind in one of the two namespaces, attached to the Gateway.
func routeMeta(r *shapeReader, kind string, i int) (metav1.ObjectMeta, gwapiv1.CommonRouteSpec) {
	gwNS := gwapiv1.Namespace("default")
	meta := metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", kind, i), Namespace: pick(r, "ns-a", "ns-b"), Generation: 1}
	return meta, gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: "gw", Namespace: &gwNS}}}
}

func fuzzHostnames(r *shapeReader, text fuzzText) []gwapiv1.Hostname {
	switch r.next() % 4 {
	case 1:
		return []gwapiv1.Hostname{"a.example.com"}
	case 2:
		return []gwapiv1.Hostname{gwapiv1.Hostname(text.host)}
	case 3:
		return []gwapiv1.Hostname{"*.example.com", gwapiv1.Hostname(text.host)}
	}
	return nil
}

func fuzzHTTPRoute(r *shapeReader, text fuzzText, i int) gwapiv1.HTTPRoute {
	meta, common := routeMeta(r, "http", i)
	route := gwapiv1.HTTPRoute{ObjectMeta: meta, Spec: gwapiv1.HTTPRouteSpec{CommonRouteSpec: common, Hostnames: fuzzHostnames(r, text)}}
	for range 1 + r.next()%3 {
		var rule gwapiv1.HTTPRouteRule
		for range r.next() % 3 {
			rule.Matches = append(rule.Matches, fuzzHTTPMatch(r, text))
		}
		for range r.next() % 3 {
			rule.Filters = append(rule.Filters, fuzzHTTPFilter(r, text))
		}
		for range r.next() % 3 {
			rule.BackendRefs = append(rule.BackendRefs, gwapiv1.HTTPBackendRef{BackendRef: fuzzBackendRef(r)})
		}
		if r.next()%4 == 1 {
			request, backend := gwapiv1.Duration(text.value), gwapiv1.Duration(pick(r, "1s", "0s", "500ms", text.query))
			rule.Timeouts = &gwapiv1.HTTPRouteTimeouts{Request: &request, BackendRequest: &backend}
		}
		route.Spec.Rules = append(route.Spec.Rules, rule)
	}
	return route
}

func fuzzHTTPMatch(r *shapeReader, text fuzzText) gwapiv1.HTTPRouteMatch {
	var m gwapiv1.HTTPRouteMatch
	if r.next()%4 != 0 {
		typ := pick(r, gwapiv1.PathMatchPathPrefix, gwapiv1.PathMatchExact, gwapiv1.PathMatchRegularExpression)
		v := pick(r, text.path, "/", "/a/")
		m.Path = &gwapiv1.HTTPPathMatch{Type: &typ, Value: &v}
	}
	if r.next()%2 == 1 {
		typ := pick(r, gwapiv1.HeaderMatchExact, gwapiv1.HeaderMatchRegularExpression)
		m.Headers = append(m.Headers, gwapiv1.HTTPHeaderMatch{Type: &typ, Name: pick[gwapiv1.HTTPHeaderName](r, "X-A", "Host"), Value: text.header})
	}
	for range r.next() % 3 {
		typ := pick(r, gwapiv1.QueryParamMatchExact, gwapiv1.QueryParamMatchRegularExpression)
		m.QueryParams = append(m.QueryParams, gwapiv1.HTTPQueryParamMatch{Type: &typ, Name: pick[gwapiv1.HTTPHeaderName](r, "q", "p"), Value: text.query})
	}
	if r.next()%3 == 1 {
		meth := gwapiv1.HTTPMethodPost
		m.Method = &meth
	}
	return m
}

func fuzzPathModifier(r *shapeReader, text fuzzText) *gwapiv1.HTTPPathModifier {
	switch r.next() % 3 {
	case 1:
		return &gwapiv1.HTTPPathModifier{Type: gwapiv1.FullPathHTTPPathModifier, ReplaceFullPath: &text.value}
	case 2:
		return &gwapiv1.HTTPPathModifier{Type: gwapiv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: &text.value}
	}
	return nil
}

func fuzzHTTPFilter(r *shapeReader, text fuzzText) gwapiv1.HTTPRouteFilter {
	switch r.next() % 6 {
	case 5:
		return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterCORS, CORS: &gwapiv1.HTTPCORSFilter{
			AllowOrigins: []gwapiv1.CORSOrigin{gwapiv1.CORSOrigin(text.value), gwapiv1.CORSOrigin(pick(r, "*", "https://"+text.host, "http://a.example.com:8080"))},
			AllowMethods: []gwapiv1.HTTPMethodWithWildcard{gwapiv1.HTTPMethodWithWildcard(pick(r, "GET", "*", text.header))},
			AllowHeaders: []gwapiv1.HTTPHeaderName{gwapiv1.HTTPHeaderName(pick(r, "X-A", "*", text.query))},
			MaxAge:       int32(r.next()) - 128,
		}}
	case 1:
		host := gwapiv1.PreciseHostname(text.host)
		return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwapiv1.HTTPRequestRedirectFilter{Hostname: &host, Path: fuzzPathModifier(r, text)}}
	case 2:
		return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterURLRewrite,
			URLRewrite: &gwapiv1.HTTPURLRewriteFilter{Path: fuzzPathModifier(r, text)}}
	case 3:
		return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterRequestMirror,
			RequestMirror: &gwapiv1.HTTPRequestMirrorFilter{BackendRef: fuzzBackendRef(r).BackendObjectReference}}
	case 4:
		return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterResponseHeaderModifier,
			ResponseHeaderModifier: fuzzHeaderFilter(text)}
	}
	return gwapiv1.HTTPRouteFilter{Type: gwapiv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: fuzzHeaderFilter(text)}
}

func fuzzHeaderFilter(text fuzzText) *gwapiv1.HTTPHeaderFilter {
	return &gwapiv1.HTTPHeaderFilter{
		Set:    []gwapiv1.HTTPHeader{{Name: "X-Set", Value: text.value}},
		Add:    []gwapiv1.HTTPHeader{{Name: "X-Add", Value: text.header}},
		Remove: []string{"X-Remove"},
	}
}

func fuzzBackendRef(r *shapeReader) gwapiv1.BackendRef {
	port := pick[gwapiv1.PortNumber](r, 8080, 9000, 1)
	ref := gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
		Name: pick[gwapiv1.ObjectName](r, "svc", "headless", "grpc", "external", "missing"), Port: &port}}
	if r.next()%4 == 1 {
		ns := gwapiv1.Namespace(pick(r, "ns-a", "ns-b"))
		ref.Namespace = &ns
	}
	if w := int32(r.next() % 4); w != 1 {
		ref.Weight = &w
	}
	return ref
}

func fuzzGRPCRoute(r *shapeReader, text fuzzText, i int) gwapiv1.GRPCRoute {
	meta, common := routeMeta(r, "grpc", i)
	route := gwapiv1.GRPCRoute{ObjectMeta: meta, Spec: gwapiv1.GRPCRouteSpec{CommonRouteSpec: common, Hostnames: fuzzHostnames(r, text)}}
	for range 1 + r.next()%2 {
		var rule gwapiv1.GRPCRouteRule
		for range r.next() % 3 {
			rule.Matches = append(rule.Matches, fuzzGRPCMatch(r, text))
		}
		if r.next()%3 == 1 {
			rule.Filters = append(rule.Filters, gwapiv1.GRPCRouteFilter{Type: gwapiv1.GRPCRouteFilterRequestHeaderModifier,
				RequestHeaderModifier: fuzzHeaderFilter(text)})
		}
		for range r.next() % 3 {
			rule.BackendRefs = append(rule.BackendRefs, gwapiv1.GRPCBackendRef{BackendRef: fuzzBackendRef(r)})
		}
		route.Spec.Rules = append(route.Spec.Rules, rule)
	}
	return route
}

func fuzzGRPCMatch(r *shapeReader, text fuzzText) gwapiv1.GRPCRouteMatch {
	var m gwapiv1.GRPCRouteMatch
	if r.next()%4 != 0 {
		typ := pick(r, gwapiv1.GRPCMethodMatchExact, gwapiv1.GRPCMethodMatchRegularExpression)
		mm := &gwapiv1.GRPCMethodMatch{Type: &typ}
		if r.next()%3 != 0 {
			mm.Service = &text.service
		}
		if r.next()%3 != 0 {
			mm.Method = &text.method
		}
		m.Method = mm
	}
	if r.next()%2 == 1 {
		typ := pick(r, gwapiv1.GRPCHeaderMatchExact, gwapiv1.GRPCHeaderMatchRegularExpression)
		m.Headers = append(m.Headers, gwapiv1.GRPCHeaderMatch{Type: &typ, Name: "x-a", Value: text.header})
	}
	return m
}

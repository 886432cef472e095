//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// filtersGateway has an HTTP listener "guarded" on guardedPort whose ExternalAuth
	// filter asks the authz Service, an HTTP listener "open" on openPort without filters,
	// and a listener "extension" on extensionPort with an ExtensionRef filter, which is
	// refused.
	filtersGateway = "filters"
	guardedPort    = 8000
	openPort       = 8001
	extensionPort  = 8002
	filtersHost    = "app.example.com"
)

// TestListenerFiltersAndDestinationPort proves, through one Gateway's Service address, a
// listener's ExternalAuth filter asking an authorization service in the cluster (denied
// requests get its answer, allowed ones reach the route with its X-User header and
// their own Host), an ExtensionRef filter refused on its listener while the others
// serve, and routes attached by parentRef port only (GEP-957) served on that port alone.
func TestListenerFiltersAndDestinationPort(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-filters", 16)
	gw := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: filtersGateway, Namespace: ns},
		Spec: gwapiv1.GatewaySpec{GatewayClassName: gwapiv1.ObjectName(class), Listeners: []gwapiv1.Listener{
			{Name: "guarded", Protocol: gwapiv1.HTTPProtocolType, Port: guardedPort, Filters: authFilters("authz")},
			{Name: "open", Protocol: gwapiv1.HTTPProtocolType, Port: openPort},
			{Name: "extension", Protocol: gwapiv1.HTTPProtocolType, Port: extensionPort, Filters: &gwapiv1.ListenerFilters{
				Requests: []gwapiv1.ListenerFilter{{Type: gwapiv1.ListenerFilterExtensionRef,
					ExtensionRef: &gwapiv1.LocalObjectReference{Group: "example.com", Kind: "JWTClaimToHeader", Name: "tenant"}}},
			}},
		}},
	}
	objs := append(utils.AuthBackend(ns, "authz"), utils.EchoBackend(ns, "guarded-echo")...)
	objs = append(objs, utils.EchoBackend(ns, "open-echo")...)
	objs = append(objs, onePodParams(ns, filtersGateway), gatewayClass(class, ns, filtersGateway), gw,
		portRoute(ns, "on-guarded-port", guardedPort, "/", "guarded-echo"),
		portRoute(ns, "on-open-port", openPort, "/open", "open-echo"))
	createAll(ctx, t, c, objs...)
	ip := serviceIP(ctx, t, c, ns, filtersGateway)
	testenv.Test(t, listenerFilterStatuses(), externalAuthFilter(joinPort(ip, guardedPort)),
		destinationPort(joinPort(ip, guardedPort), joinPort(ip, openPort)))
}

// authFilters is one ExternalAuth filter asking port 8080 of Service name under /check,
// copying its X-User header, and its Host header, which must not take effect.
func authFilters(name string) *gwapiv1.ListenerFilters {
	return &gwapiv1.ListenerFilters{Requests: []gwapiv1.ListenerFilter{{
		Type: gwapiv1.ListenerFilterExternalAuth,
		ExternalAuth: &gwapiv1.HTTPExternalAuthFilter{
			ExternalAuthProtocol: gwapiv1.HTTPRouteExternalAuthHTTPProtocol,
			BackendRef:           gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(name), Port: ptr.To[gwapiv1.PortNumber](8080)},
			HTTPAuthConfig:       &gwapiv1.HTTPAuthConfig{Path: "/check", AllowedResponseHeaders: []string{"X-User", "Host"}},
		},
	}}}
}

// portRoute is an HTTPRoute attached to the filters Gateway by port alone, sending the
// requests under prefix to port 8080 of Service backend.
func portRoute(ns, name string, port gwapiv1.PortNumber, prefix, backend string) *gwapiv1.HTTPRoute {
	rule := toBackends(backendRef("", backend, 1))
	rule.Matches = []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{
		Type: ptr.To(gwapiv1.PathMatchPathPrefix), Value: ptr.To(prefix)}}}
	r := httpRoute(ns, name, ns, filtersGateway, "", nil, rule)
	r.Spec.ParentRefs[0].Port = ptr.To(port)
	return r
}

func listenerFilterStatuses() features.Feature {
	return features.New("listener filter statuses").
		Assess("the ExternalAuth listener is accepted, the ExtensionRef one refused, the port routes accepted", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			for _, l := range []struct{ name, typ, st, reason string }{
				{"guarded", "Accepted", "True", "Accepted"},
				{"guarded", "ResolvedRefs", "True", "ResolvedRefs"},
				{"extension", "Accepted", "False", "UnsupportedValue"},
				{"extension", "ResolvedRefs", "False", "InvalidListenerFilterRef"},
			} {
				cond := listenerCondition(ctx, t, c, ns, filtersGateway, l.name, l.typ, metav1.ConditionStatus(l.st), l.reason)
				t.Logf("listener %s: %s=%s %s: %s", l.name, l.typ, cond.Status, cond.Reason, cond.Message)
			}
			for _, r := range []string{"on-guarded-port", "on-open-port"} {
				routeParentCondition(ctx, t, c, client.ObjectKey{Namespace: ns, Name: r}, ns, filtersGateway,
					string(gwapiv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwapiv1.RouteReasonAccepted))
			}
			return ctx
		}).Feature()
}

func externalAuthFilter(addr string) features.Feature {
	return features.New("an ExternalAuth listener filter").
		Assess("without a token: the service's 403 and body", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			got := pollAuthed(ctx, t, addr, filtersHost, "/orders", "", func(a authedAnswer) error {
				if a.code != http.StatusForbidden || a.body != "denied by auth" || a.header.Get("X-Auth-Reason") != "no token" {
					return fmt.Errorf("got %d %q %v", a.code, a.body, a.header)
				}
				return nil
			})
			t.Logf("denied: %d %q, the service was asked for %s", got.code, got.body, got.header.Get("X-Auth-Path"))
			if p := got.header.Get("X-Auth-Path"); p != "/check/orders" {
				t.Errorf("the service was asked for %q, want /check/orders", p)
			}
			return ctx
		}).
		Assess("with a token: the route's backend, X-User from the service, the client's Host", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			got := pollAuthed(ctx, t, addr, filtersHost, "/orders", "Bearer good", func(a authedAnswer) error {
				if a.code != http.StatusOK || !strings.Contains(a.body, "backend=guarded-echo") {
					return fmt.Errorf("got %d %q", a.code, a.body)
				}
				return nil
			})
			for _, want := range []string{"host=" + filtersHost + "\n", "header X-User: alice\n"} {
				if !strings.Contains(got.body, want) {
					t.Errorf("backend saw %q, want it to contain %q", got.body, want)
				}
			}
			return ctx
		}).Feature()
}

func destinationPort(guarded, open string) features.Feature {
	return features.New("routes attached by parentRef port").
		Assess("each is served on its port only", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			expectVia(ctx, t, plainClient, "http", open, filtersHost, "/open", http.StatusOK, "backend=open-echo")
			expectVia(ctx, t, plainClient, "http", open, filtersHost, "/", http.StatusNotFound, "")
			got := pollAuthed(ctx, t, guarded, filtersHost, "/open", "Bearer good", func(a authedAnswer) error {
				if a.code != http.StatusOK || !strings.Contains(a.body, "backend=guarded-echo") {
					return fmt.Errorf("got %d %q", a.code, a.body)
				}
				return nil
			})
			t.Logf("port %s /open: %d %s", guarded, got.code, strings.SplitN(got.body, "\n", 2)[0])
			return ctx
		}).Feature()
}

// authedAnswer is the answer to one request through the filters Gateway.
type authedAnswer struct {
	code   int
	body   string
	header http.Header
}

// pollAuthed sends GET path with Host host to addr, with an Authorization header when
// token is set, until check accepts the answer.
func pollAuthed(ctx context.Context, t *testing.T, addr, host, path, token string, check func(authedAnswer) error) authedAnswer {
	t.Helper()
	var got authedAnswer
	poll(ctx, t, fmt.Sprintf("GET %s via %s (token %q)", path, addr, token), func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		req.Host = host
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := plainClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		got = authedAnswer{code: resp.StatusCode, body: string(b), header: resp.Header}
		return check(got)
	})
	return got
}

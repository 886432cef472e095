//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
)

// createAll creates objs in order and registers their deletion, in reverse order, when t
// ends (a feature's t ends with the feature, the test's t with the test).
func createAll(ctx context.Context, t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
		t.Cleanup(func() { deleteAll(context.Background(), t, c, o) })
	}
}

// serviceIP waits for the Gateway's Service and returns its ClusterIP.
func serviceIP(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) string {
	t.Helper()
	return gatewayService(ctx, t, c, ns, gateway).Spec.ClusterIP
}

// gatewayService waits until the Gateway's Service has a ClusterIP and returns it.
func gatewayService(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) corev1.Service {
	t.Helper()
	var svc corev1.Service
	poll(ctx, t, "the Service of Gateway "+gateway, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: infra.NamesFor(gateway).Workload}, &svc); err != nil {
			return err
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return fmt.Errorf("no ClusterIP yet")
		}
		return nil
	})
	return svc
}

// httpRoute is an HTTPRoute in ns attached to the listener section of Gateway gwNS/gw
// (any listener when section is empty), for hostnames, with one rule.
func httpRoute(ns, name, gwNS, gw, section string, hostnames []string, rule gwapiv1.HTTPRouteRule) *gwapiv1.HTTPRoute {
	ref := gwapiv1.ParentReference{Name: gwapiv1.ObjectName(gw), Namespace: ptr.To(gwapiv1.Namespace(gwNS))}
	if section != "" {
		ref.SectionName = ptr.To(gwapiv1.SectionName(section))
	}
	hs := make([]gwapiv1.Hostname, len(hostnames))
	for i, h := range hostnames {
		hs[i] = gwapiv1.Hostname(h)
	}
	return &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{ref}},
			Hostnames:       hs,
			Rules:           []gwapiv1.HTTPRouteRule{rule},
		},
	}
}

// toBackends is a rule sending every request to refs.
func toBackends(refs ...gwapiv1.HTTPBackendRef) gwapiv1.HTTPRouteRule {
	return gwapiv1.HTTPRouteRule{BackendRefs: refs}
}

// backendRef names port 8080 of Service name (in namespace ns when not empty) with weight.
func backendRef(ns, name string, weight int32) gwapiv1.HTTPBackendRef {
	ref := gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(name), Port: ptr.To[gwapiv1.PortNumber](8080)}
	if ns != "" {
		ref.Namespace = ptr.To(gwapiv1.Namespace(ns))
	}
	return gwapiv1.HTTPBackendRef{BackendRef: gwapiv1.BackendRef{BackendObjectReference: ref, Weight: ptr.To(weight)}}
}

// routeParentCondition waits until the HTTPRoute's status entry for Gateway gwNS/gw has
// a condition typ with status st and reason.
func routeParentCondition(ctx context.Context, t *testing.T, c client.Client, route client.ObjectKey, gwNS, gw, typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	rt := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: route.Namespace, Name: route.Name}}
	return parentCondition(ctx, t, c, rt, gwNS, gw, typ, st, reason)
}

// parentCondition waits until route (a Gateway API route of any kind, only its namespace
// and name set) has a status entry for Gateway gwNS/gw with a condition typ of status st
// and reason.
func parentCondition(ctx context.Context, t *testing.T, c client.Client, route client.Object, gwNS, gw, typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	key := client.ObjectKeyFromObject(route)
	poll(ctx, t, fmt.Sprintf("%T %s %s=%s %s", route, key, typ, st, reason), func(ctx context.Context) error {
		if err := c.Get(ctx, key, route); err != nil {
			return err
		}
		parents := routeParents(route)
		for _, p := range parents {
			if string(p.ParentRef.Name) != gw || p.ParentRef.Namespace == nil || string(*p.ParentRef.Namespace) != gwNS {
				continue
			}
			cond := meta.FindStatusCondition(p.Conditions, typ)
			if cond == nil || cond.Status != st || cond.Reason != reason {
				return fmt.Errorf("%s: %+v", typ, cond)
			}
			got = *cond
			return nil
		}
		return fmt.Errorf("no status entry for %s/%s: %+v", gwNS, gw, parents)
	})
	return got
}

// routeParents returns the status parents of a route of any kind.
func routeParents(route client.Object) []gwapiv1.RouteParentStatus {
	switch r := route.(type) {
	case *gwapiv1.HTTPRoute:
		return r.Status.Parents
	case *gwapiv1.GRPCRoute:
		return r.Status.Parents
	case *gwapiv1.TLSRoute:
		return r.Status.Parents
	case *gwapiv1.TCPRoute:
		return r.Status.Parents
	case *gwapiv1.UDPRoute:
		return r.Status.Parents
	}
	panic(fmt.Sprintf("routeParents: %T is not a route", route))
}

// response is what one request through the Gateway returned.
type response struct {
	code     int
	body     string
	location string
	// dnsNames are those of the certificate the server presented (HTTPS only).
	dnsNames []string
	// leaf is the DER of the certificate the server presented (HTTPS only).
	leaf []byte
}

// plainClient sends one request per connection and never follows redirects.
var plainClient = &http.Client{
	Timeout:       5 * time.Second,
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// tlsClient trusts only roots and expects the server to present a certificate for
// serverName, which it also sends as SNI.
func tlsClient(roots *x509.CertPool, serverName string) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// send requests scheme://addr/path with the Host header host through hc.
func send(ctx context.Context, hc *http.Client, scheme, addr, host, path string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	out := response{code: resp.StatusCode, body: string(b), location: resp.Header.Get("Location")}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		out.dnsNames = resp.TLS.PeerCertificates[0].DNSNames
		out.leaf = resp.TLS.PeerCertificates[0].Raw
	}
	return out, nil
}

// expectVia polls a request through hc until it answers code with a body containing want.
func expectVia(ctx context.Context, t *testing.T, hc *http.Client, scheme, addr, host, path string, code int, want string) response {
	t.Helper()
	var got response
	poll(ctx, t, fmt.Sprintf("GET %s://%s%s via %s answers %d %q", scheme, host, path, addr, code, want), func(ctx context.Context) error {
		r, err := send(ctx, hc, scheme, addr, host, path)
		if err != nil {
			return err
		}
		got = r
		if r.code != code || !strings.Contains(r.body, want) {
			return fmt.Errorf("got %d %q", r.code, r.body)
		}
		return nil
	})
	return got
}

// podIdentities describes the pods of ns matching sel as sorted "name uid restarts"
// lines: equal descriptions mean no pod was replaced or restarted.
func podIdentities(ctx context.Context, t *testing.T, c client.Client, ns string, sel map[string]string) []string {
	t.Helper()
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(sel)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		var restarts int32
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
		out = append(out, fmt.Sprintf("%s %s %d", p.Name, p.UID, restarts))
	}
	slices.Sort(out)
	return out
}

// joinPort is host:port.
func joinPort(host string, port int) string {
	return net.JoinHostPort(host, fmt.Sprint(port))
}

// listenerCondition waits until the Gateway's listener has a condition typ with status st
// and reason.
func listenerCondition(ctx context.Context, t *testing.T, c client.Client, ns, gateway, listener, typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	poll(ctx, t, fmt.Sprintf("listener %s of Gateway %s %s=%s %s", listener, gateway, typ, st, reason), func(ctx context.Context) error {
		var gw gwapiv1.Gateway
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: gateway}, &gw); err != nil {
			return err
		}
		for _, l := range gw.Status.Listeners {
			if string(l.Name) != listener {
				continue
			}
			cond := meta.FindStatusCondition(l.Conditions, typ)
			if cond == nil || cond.Status != st || cond.Reason != reason {
				return fmt.Errorf("%s: %+v", typ, cond)
			}
			got = *cond
			return nil
		}
		return fmt.Errorf("no status for listener %s: %+v", listener, gw.Status.Listeners)
	})
	return got
}

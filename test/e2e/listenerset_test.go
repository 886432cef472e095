//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// listenersGateway has one HTTP listener "http" on listenerPort, serving ownHost, and
	// admits ListenerSets from namespaces carrying listenersAccess only.
	listenersGateway = "listeners"
	ownHost          = "own.example.com"
	// The tenant's ListenerSet "tenant" adds the HTTP listener "web" on tenantPort for
	// tenantHost; the outsider's, from a namespace without the label, outsiderPort for
	// outsiderHost. Neither is a port the Caddy pods use for themselves (admin 2021,
	// readiness 8081, metrics 9180).
	tenantPort   = 8090
	tenantHost   = "tenant.example.com"
	outsiderPort = 8091
	outsiderHost = "outsider.example.com"
	// unservedTimeout bounds a request to a port the Gateway's Service does not have: the
	// local cluster sinks such packets, so the request times out rather than being refused.
	unservedTimeout = 2 * time.Second
)

// listenersAccess is the label of the namespaces whose ListenerSets the Gateway admits.
var listenersAccess = map[string]string{"gateway-access": listenersGateway}

// listenerSetNamespaces are the namespaces TestListenerSet creates besides cfg.Namespace().
type listenerSetNamespaces struct {
	// tenant carries listenersAccess: the Gateway admits its ListenerSet.
	tenant string
	// outsider has no such label: the Gateway refuses its ListenerSet.
	outsider string
	// ip is the ClusterIP of the Gateway's Service.
	ip string
}

// TestListenerSet proves, through one Gateway's Service address, that a ListenerSet of a
// namespace the Gateway's allowedListeners selects adds a port serving its own routes
// only, that one of a namespace not selected is NotAllowed and serves nothing, that a
// set's listener runs its own ExternalAuth filter, asking a service of the set's
// namespace, and that deleting the admitted set closes its port and detaches its route.
func TestListenerSet(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-listeners", 16)
	names := listenerSetNamespaces{tenant: envconf.RandomName("e2e-tenant", 16), outsider: envconf.RandomName("e2e-outsider", 16)}
	gw := httpGateway(ns, listenersGateway, class)
	gw.Spec.AllowedListeners = &gwapiv1.AllowedListeners{Namespaces: &gwapiv1.ListenerNamespaces{
		From:     ptr.To(gwapiv1.NamespacesFromSelector),
		Selector: &metav1.LabelSelector{MatchLabels: listenersAccess},
	}}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.tenant, Labels: listenersAccess}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.outsider}},
		onePodParams(ns, listenersGateway), gatewayClass(class, ns, listenersGateway), gw,
	}
	objs = append(objs, utils.EchoBackend(ns, "echo-own")...)
	objs = append(objs, utils.EchoBackend(names.tenant, "echo-tenant")...)
	objs = append(objs,
		httpRoute(ns, "own", ns, listenersGateway, "http", []string{ownHost}, toBackends(backendRef("", "echo-own", 1))),
		listenerSet(names.tenant, "tenant", ns, tenantPort, tenantHost),
		setRoute(names.tenant, "tenant", "tenant", tenantHost, "echo-tenant"))
	createAll(ctx, t, c, objs...)
	names.ip = serviceIP(ctx, t, c, ns, listenersGateway)
	testenv.Test(t, admittedListenerSet(names), refusedListenerSet(names), tenantListenerFilter(names), deletedListenerSet(names))
}

// listenerSet is a ListenerSet in ns naming Gateway listenersGateway of gwNS, with one
// HTTP listener "web" on port for host, whose routes may come from ns (the default).
func listenerSet(ns, name, gwNS string, port gwapiv1.PortNumber, host string) *gwapiv1.ListenerSet {
	return &gwapiv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwapiv1.ListenerSetSpec{
			ParentRef: gwapiv1.ParentGatewayReference{Name: listenersGateway, Namespace: ptr.To(gwapiv1.Namespace(gwNS))},
			Listeners: []gwapiv1.ListenerEntry{{
				Name: "web", Protocol: gwapiv1.HTTPProtocolType, Port: port, Hostname: ptr.To(gwapiv1.Hostname(host)),
			}},
		},
	}
}

// setRoute is an HTTPRoute in ns for host, attached to listener "web" of the ListenerSet
// set of the same namespace, sending every request to Service backend.
func setRoute(ns, name, set, host, backend string) *gwapiv1.HTTPRoute {
	rt := httpRoute(ns, name, ns, set, "web", []string{host}, toBackends(backendRef("", backend, 1)))
	rt.Spec.ParentRefs[0].Group = ptr.To(gwapiv1.Group(gwapiv1.GroupName))
	rt.Spec.ParentRefs[0].Kind = ptr.To(gwapiv1.Kind("ListenerSet"))
	rt.Spec.ParentRefs[0].Namespace = nil
	return rt
}

// admittedListenerSet checks the tenant's set: its route answers on the set's port only,
// the Gateway's own route keeps answering on the Gateway's port, and the statuses say so.
func admittedListenerSet(names listenerSetNamespaces) features.Feature {
	own, tenant := joinPort(names.ip, listenerPort), joinPort(names.ip, tenantPort)
	return features.New("a ListenerSet of a namespace the Gateway selects").
		Assess("its route answers on the set's port, not on the Gateway's", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			expectVia(ctx, t, plainClient, "http", tenant, tenantHost, "/shop", http.StatusOK, "backend=echo-tenant path=/shop")
			expectVia(ctx, t, plainClient, "http", own, ownHost, "/home", http.StatusOK, "backend=echo-own path=/home")
			for _, miss := range []struct{ addr, host string }{{own, tenantHost}, {tenant, ownHost}} {
				if r, err := send(ctx, plainClient, "http", miss.addr, miss.host, "/"); err != nil || r.code != http.StatusNotFound {
					t.Fatalf("GET http://%s/ via %s: want 404, got %d %q %v", miss.host, miss.addr, r.code, r.body, err)
				}
			}
			return ctx
		}).
		Assess("the set is Accepted and Programmed, counted by the Gateway, and the route's entry names the set", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			set := client.ObjectKey{Namespace: names.tenant, Name: "tenant"}
			listenerSetCondition(ctx, t, c, set, string(gwapiv1.ListenerSetConditionAccepted), metav1.ConditionTrue, string(gwapiv1.ListenerSetReasonAccepted))
			listenerSetCondition(ctx, t, c, set, string(gwapiv1.ListenerSetConditionProgrammed), metav1.ConditionTrue, string(gwapiv1.ListenerSetReasonProgrammed))
			attachedListenerSetsAre(ctx, t, c, cfg.Namespace(), 1)
			route := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: names.tenant, Name: "tenant"}}
			setParentCondition(ctx, t, c, route, set, string(gwapiv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwapiv1.RouteReasonAccepted))
			if len(route.Status.Parents) != 1 {
				t.Fatalf("the route has %d status entries, want the set's only: %+v", len(route.Status.Parents), route.Status.Parents)
			}
			if ports := servicePorts(ctx, t, c, cfg.Namespace()); !slices.Equal(ports, []int32{listenerPort, tenantPort}) {
				t.Fatalf("Service ports %v, want the Gateway's %d and the set's %d", ports, listenerPort, tenantPort)
			}
			return ctx
		}).Feature()
}

// refusedListenerSet adds a set, and a route attached to it, in the namespace the
// Gateway does not select: the set is NotAllowed and nothing it asks for is served.
func refusedListenerSet(names listenerSetNamespaces) features.Feature {
	set := client.ObjectKey{Namespace: names.outsider, Name: "outsider"}
	return features.New("a ListenerSet of a namespace the Gateway does not select").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			// The route is valid in every other respect: its Service exists.
			createAll(ctx, t, c, utils.EchoBackend(names.outsider, "echo-outsider")[1],
				listenerSet(names.outsider, "outsider", cfg.Namespace(), outsiderPort, outsiderHost),
				setRoute(names.outsider, "outsider", "outsider", outsiderHost, "echo-outsider"))
			return ctx
		}).
		Assess("the set is NotAllowed and its route has no parent", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			cond := listenerSetCondition(ctx, t, c, set, string(gwapiv1.ListenerSetConditionAccepted), metav1.ConditionFalse, string(gwapiv1.ListenerSetReasonNotAllowed))
			t.Logf("outsider set: Accepted=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			route := &gwapiv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: names.outsider, Name: "outsider"}}
			cond = setParentCondition(ctx, t, c, route, set, string(gwapiv1.RouteConditionAccepted), metav1.ConditionFalse, string(gwapiv1.RouteReasonNoMatchingParent))
			t.Logf("outsider route: Accepted=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			attachedListenerSetsAre(ctx, t, c, cfg.Namespace(), 1)
			return ctx
		}).
		Assess("its port is not opened and its hostname not served", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			// The statuses above are written after the Service and the push: both already
			// hold the refusal.
			if ports := servicePorts(ctx, t, c, cfg.Namespace()); slices.Contains(ports, outsiderPort) {
				t.Fatalf("Service ports %v hold the refused set's %d", ports, outsiderPort)
			}
			if r, err := send(ctx, unservedClient, "http", joinPort(names.ip, outsiderPort), outsiderHost, "/"); err == nil {
				t.Fatalf("GET http://%s/ via port %d of the Service answered %d %q, want no answer", outsiderHost, outsiderPort, r.code, r.body)
			}
			if r, err := send(ctx, plainClient, "http", joinPort(names.ip, listenerPort), outsiderHost, "/"); err != nil || r.code != http.StatusNotFound {
				t.Fatalf("GET http://%s/ via the Gateway's port: want 404, got %d %q %v", outsiderHost, r.code, r.body, err)
			}
			// The admitted set is not disturbed.
			expectVia(ctx, t, plainClient, "http", joinPort(names.ip, tenantPort), tenantHost, "/", http.StatusOK, "backend=echo-tenant")
			return ctx
		}).Feature()
}

// tenantListenerFilter gives the tenant's listener an ExternalAuth filter asking an
// authorization service of the tenant's namespace: the tenant's hostname answers what
// that service allows only, and the Gateway's own listener is not filtered.
func tenantListenerFilter(names listenerSetNamespaces) features.Feature {
	tenant := joinPort(names.ip, tenantPort)
	return features.New("a ListenerSet listener's own ExternalAuth filter").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			createAll(ctx, t, c, utils.AuthBackend(names.tenant, "authz-tenant")...)
			key, set := client.ObjectKey{Namespace: names.tenant, Name: "tenant"}, &gwapiv1.ListenerSet{}
			if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				if err := c.Get(ctx, key, set); err != nil {
					return err
				}
				set.Spec.Listeners[0].Filters = authFilters("authz-tenant")
				return c.Update(ctx, set)
			}); err != nil {
				t.Fatalf("adding the filter to ListenerSet %s: %v", key, err)
			}
			return ctx
		}).
		Assess("the tenant's hostname answers what its own service allows", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			denied := pollAuthed(ctx, t, tenant, tenantHost, "/shop", "", func(a authedAnswer) error {
				if a.code != http.StatusForbidden || a.body != "denied by auth" {
					return fmt.Errorf("got %d %q", a.code, a.body)
				}
				return nil
			})
			t.Logf("without a token: %d %q, the service was asked for %s", denied.code, denied.body, denied.header.Get("X-Auth-Path"))
			allowed := pollAuthed(ctx, t, tenant, tenantHost, "/shop", "Bearer good", func(a authedAnswer) error {
				if a.code != http.StatusOK || !strings.Contains(a.body, "backend=echo-tenant") || !strings.Contains(a.body, "header X-User: alice\n") {
					return fmt.Errorf("got %d %q", a.code, a.body)
				}
				return nil
			})
			t.Logf("with a token: %d %s", allowed.code, strings.SplitN(allowed.body, "\n", 2)[0])
			return ctx
		}).
		Assess("the Gateway's own listener is not filtered", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			expectVia(ctx, t, plainClient, "http", joinPort(names.ip, listenerPort), ownHost, "/home", http.StatusOK, "backend=echo-own")
			return ctx
		}).Feature()
}

// deletedListenerSet deletes the tenant's set: its port closes, its route is no longer
// served nor attached, the Gateway counts no set and its own route keeps answering.
func deletedListenerSet(names listenerSetNamespaces) features.Feature {
	set := client.ObjectKey{Namespace: names.tenant, Name: "tenant"}
	tenant := joinPort(names.ip, tenantPort)
	return features.New("deleting the admitted ListenerSet").
		Assess("its port closes and its route is no longer served", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			start := time.Now()
			if err := c.Delete(ctx, &gwapiv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: set.Namespace, Name: set.Name}}); err != nil {
				t.Fatal(err)
			}
			poll(ctx, t, fmt.Sprintf("the Service closes port %d", tenantPort), func(ctx context.Context) error {
				if ports := servicePorts(ctx, t, c, cfg.Namespace()); !slices.Equal(ports, []int32{listenerPort}) {
					return fmt.Errorf("Service ports %v, want %d only", ports, listenerPort)
				}
				return nil
			})
			closed := time.Since(start)
			poll(ctx, t, "GET http://"+tenantHost+"/ via "+tenant+" gets no answer", func(ctx context.Context) error {
				if r, err := send(ctx, unservedClient, "http", tenant, tenantHost, "/"); err == nil {
					return fmt.Errorf("answered %d %q", r.code, r.body)
				}
				return nil
			})
			t.Logf("port %d left the Service %v after the delete; no answer on it %v after", tenantPort, closed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			own := joinPort(names.ip, listenerPort)
			if r, err := send(ctx, plainClient, "http", own, tenantHost, "/"); err != nil || r.code != http.StatusNotFound {
				t.Fatalf("GET http://%s/ via the Gateway's port: want 404, got %d %q %v", tenantHost, r.code, r.body, err)
			}
			expectVia(ctx, t, plainClient, "http", own, ownHost, "/", http.StatusOK, "backend=echo-own")
			return ctx
		}).
		Assess("the Gateway counts no attached set", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			attachedListenerSetsAre(ctx, t, cfg.Client().Resources().GetControllerRuntimeClient(), cfg.Namespace(), 0)
			return ctx
		}).
		Assess("the route's entry for the set goes or is not accepted", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			route := client.ObjectKey{Namespace: names.tenant, Name: "tenant"}
			entry, err := detachedEntry(ctx, c, route, set)
			if err != nil {
				t.Fatalf("HTTPRoute %s, within %v of the Gateway counting no set: %v", route, detachTimeout, err)
			}
			if entry == nil {
				t.Log("the route's entry for the deleted set is gone")
			} else {
				t.Logf("the route's entry for the deleted set: %+v", meta.FindStatusCondition(entry.Conditions, string(gwapiv1.RouteConditionAccepted)))
			}
			return ctx
		}).Feature()
}

// detachTimeout bounds the wait for a route's entry of a deleted ListenerSet to go or
// stop being accepted: the Gateway's statuses follow the deletion within seconds.
const detachTimeout = 30 * time.Second

// detachedEntry waits until route has no accepted entry for ListenerSet set and returns
// the entry left, nil when it is gone; the error describes the entry still accepted.
func detachedEntry(ctx context.Context, c client.Client, route, set client.ObjectKey) (*gwapiv1.RouteParentStatus, error) {
	var entry *gwapiv1.RouteParentStatus
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, detachTimeout, true, func(ctx context.Context) (bool, error) {
		var rt gwapiv1.HTTPRoute
		if err := c.Get(ctx, route, &rt); err != nil {
			if ctx.Err() == nil {
				last = err
			}
			return false, nil
		}
		entry = setEntry(rt.Status.Parents, set)
		if entry != nil && meta.IsStatusConditionTrue(entry.Conditions, string(gwapiv1.RouteConditionAccepted)) {
			last = fmt.Errorf("its entry for ListenerSet %s is still accepted: %+v", set, entry.Conditions)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (last: %v)", err, last)
	}
	return entry, nil
}

// unservedClient is plainClient with a timeout short enough to tell, in a test of
// bounded length, that nothing answers on a port.
var unservedClient = &http.Client{
	Timeout:       unservedTimeout,
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// servicePorts are the port numbers of Gateway listenersGateway's Service in ns, in order.
func servicePorts(ctx context.Context, t *testing.T, c client.Client, ns string) []int32 {
	t.Helper()
	svc := gatewayService(ctx, t, c, ns, listenersGateway)
	out := make([]int32, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		out = append(out, p.Port)
	}
	slices.Sort(out)
	return out
}

// listenerSetCondition waits until the ListenerSet's condition typ, for its current
// generation, has status st and reason.
func listenerSetCondition(ctx context.Context, t *testing.T, c client.Client, key client.ObjectKey, typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	poll(ctx, t, fmt.Sprintf("ListenerSet %s %s=%s %s", key, typ, st, reason), func(ctx context.Context) error {
		var ls gwapiv1.ListenerSet
		if err := c.Get(ctx, key, &ls); err != nil {
			return err
		}
		cond := meta.FindStatusCondition(ls.Status.Conditions, typ)
		if cond == nil || cond.Status != st || cond.Reason != reason || cond.ObservedGeneration != ls.Generation {
			return fmt.Errorf("%s: %+v", typ, cond)
		}
		got = *cond
		return nil
	})
	return got
}

// attachedListenerSetsAre waits until Gateway listenersGateway of ns counts n attached
// ListenerSets (none: the field is unset).
func attachedListenerSetsAre(ctx context.Context, t *testing.T, c client.Client, ns string, n int32) {
	t.Helper()
	poll(ctx, t, fmt.Sprintf("Gateway %s counts %d attached ListenerSets", listenersGateway, n), func(ctx context.Context) error {
		var gw gwapiv1.Gateway
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: listenersGateway}, &gw); err != nil {
			return err
		}
		if got := ptr.Deref(gw.Status.AttachedListenerSets, 0); got != n || n == 0 && gw.Status.AttachedListenerSets != nil {
			return fmt.Errorf("attachedListenerSets %v", gw.Status.AttachedListenerSets)
		}
		return nil
	})
}

// setParentCondition waits until route (only its namespace and name set) has a status
// entry for ListenerSet set with a condition typ of status st and reason.
func setParentCondition(ctx context.Context, t *testing.T, c client.Client, route *gwapiv1.HTTPRoute, set client.ObjectKey, typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	key := client.ObjectKeyFromObject(route)
	poll(ctx, t, fmt.Sprintf("HTTPRoute %s entry for ListenerSet %s %s=%s %s", key, set, typ, st, reason), func(ctx context.Context) error {
		if err := c.Get(ctx, key, route); err != nil {
			return err
		}
		entry := setEntry(route.Status.Parents, set)
		if entry == nil {
			return fmt.Errorf("no status entry for ListenerSet %s: %+v", set, route.Status.Parents)
		}
		cond := meta.FindStatusCondition(entry.Conditions, typ)
		if cond == nil || cond.Status != st || cond.Reason != reason {
			return fmt.Errorf("%s: %+v", typ, cond)
		}
		got = *cond
		return nil
	})
	return got
}

// setEntry returns the entry of parents for ListenerSet set (a parentRef of kind
// ListenerSet naming it, in its namespace when the ref names none), nil when there is none.
func setEntry(parents []gwapiv1.RouteParentStatus, set client.ObjectKey) *gwapiv1.RouteParentStatus {
	for i, p := range parents {
		ref := p.ParentRef
		if ref.Kind == nil || *ref.Kind != "ListenerSet" || string(ref.Name) != set.Name ||
			ref.Namespace != nil && string(*ref.Namespace) != set.Namespace {
			continue
		}
		return &parents[i]
	}
	return nil
}

package emit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// tenantsFixture has one route per tenant, each on a hostname of its own, sending to the
// Service VERSION-<tenant>.
const tenantsFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: v1
kind: Service
metadata: {name: v1, namespace: tenant-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: v2, namespace: tenant-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: v1, namespace: tenant-b}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: v2, namespace: tenant-b}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: tenant-a}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [a.example.com]
  rules: [{backendRefs: [{name: VERSION-A, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: tenant-b}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [b.example.com]
  rules: [{backendRefs: [{name: VERSION-B, port: 8080}]}]
`

// TestDataPlaneBadHostTableHurtsNoOtherTenant pushes with the operator's pusher through
// the admin-proxy a change of both tenants' routes in which tenant B's host table does
// not provision (its routes name a handler this Caddy lacks, as a Caddy older than the
// operator would): tenant A's change is served at once, tenant B keeps its last good
// routes, and the push reports B's host table by table and host. Once B's host table
// provisions, it is served too.
func TestDataPlaneBadHostTableHurtsNoOtherTenant(t *testing.T) {
	backends := map[string]string{}
	for _, name := range []string{"a1", "a2", "b1", "b2"} {
		ns, version := "tenant-"+name[:1], "v"+name[1:]
		backends[version+"."+ns+".svc.cluster.local:8080"] = echoBackend(t, name).Listener.Addr().String()
	}
	versions := func(a, b string) string {
		return strings.NewReplacer("VERSION-A", a, "VERSION-B", b).Replace(tenantsFixture)
	}
	d := startDataPlane(t, versions("v1", "v1"), backends)
	d.client.Transport = &http.Transport{DisableKeepAlives: true}
	push := startAdminPush(t, d)
	req := push.request(t)
	pushes := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 30 * time.Second, InitialBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}})
	serves := func(host, want string) {
		t.Helper()
		if e := d.expect(http.MethodGet, "/", map[string]string{"Host": host}, http.StatusOK); e.Backend != want {
			t.Errorf("%s: served by %q, want %q", host, e.Backend, want)
		}
	}

	req.Config = pusherConfig(d.config(versions("v1", "v1")))
	if res := pushes.Push(context.Background(), req); res.Programmed != 1 || len(res.Errors) != 0 {
		t.Fatalf("the running config: %+v", res)
	}
	serves("a.example.com", "a1")
	serves("b.example.com", "b1")

	next := d.config(versions("v2", "v2"))
	bad := next
	bad.Tables = breakHostTable(t, next.Tables, caddyjson.HostKey{Table: caddyjson.TableName(int32(d.listenPort), ""), Host: "b.example.com"})
	req.Config = pusherConfig(bad)
	res := pushes.Push(context.Background(), req)
	if res.Programmed != 0 || res.Pushed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 1 {
		t.Fatalf("the push with a bad host table: %+v", res)
	}
	te := res.TableErrors[0]
	if te.Table != caddyjson.TableName(int32(d.listenPort), "") || te.Host != "b.example.com" ||
		!strings.Contains(te.Error, "no_such_handler") || strings.Join(te.Pods, ",") != "caddy-0" {
		t.Fatalf("table error %+v, want b.example.com of the listener's table, on caddy-0, naming the unknown handler", te)
	}
	t.Logf("reported: %+v", te)
	serves("a.example.com", "a2")
	serves("b.example.com", "b1")

	req.Config = pusherConfig(next)
	if res := pushes.Push(context.Background(), req); res.Programmed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 0 {
		t.Fatalf("the push with B's host table mended: %+v", res)
	}
	serves("a.example.com", "a2")
	serves("b.example.com", "b2")
}

// breakHostTable returns tables with the host table of key replaced by one whose routes
// name a handler Caddy does not have and are of no source, so that the host table fails
// whole.
func breakHostTable(t *testing.T, tables []caddyjson.HostTable, key caddyjson.HostKey) []caddyjson.HostTable {
	t.Helper()
	out := append([]caddyjson.HostTable(nil), tables...)
	for i := range out {
		if out[i].Key() == key {
			out[i].Routes = json.RawMessage(`[{"handle":[{"handler":"no_such_handler"}]}]`)
			out[i].Sources = nil
			sum := sha256.Sum256(out[i].Routes)
			out[i].Hash = hex.EncodeToString(sum[:])
			return out
		}
	}
	t.Fatalf("no host table %+v among %d", key, len(tables))
	return nil
}

// pusherConfig is res as the operator gives it to its pusher.
func pusherConfig(res emit.Result) pusher.Config {
	return pusher.Config{JSON: res.JSON, Hash: res.Hash, ID: emit.ConfigID(res.Hash), Tables: res.Tables}
}

// request is a push to the data plane's one pod, through the admin-proxy, as the
// operator's pusher sends it; its Config is left to the caller.
func (p *adminPush) request(t *testing.T) pusher.Request {
	t.Helper()
	u, err := url.Parse(p.url)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return pusher.Request{
		Gateway: "default/gw", Targets: []pusher.Target{{Key: "caddy-0/0", Name: "caddy-0", IP: host}},
		TLS: p.client.Transport.(*http.Transport).TLSClientConfig, Port: int32(n),
	}
}

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
	p := startTenantsPush(t, tenantsFixture)
	d := p.d
	serves := func(host, want string) {
		t.Helper()
		if e := d.expect(http.MethodGet, "/", map[string]string{"Host": host}, http.StatusOK); e.Backend != want {
			t.Errorf("%s: served by %q, want %q", host, e.Backend, want)
		}
	}

	serves("a.example.com", "a1")
	serves("b.example.com", "b1")

	next := d.config(p.versions("v2", "v2"))
	bad := next
	bad.Tables = breakHostTable(t, next.Tables, caddyjson.HostKey{Table: caddyjson.TableName(int32(d.listenPort), ""), Host: "b.example.com"})
	res := p.push(bad)
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

	if res := p.push(next); res.Programmed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 0 {
		t.Fatalf("the push with B's host table mended: %+v", res)
	}
	serves("a.example.com", "a2")
	serves("b.example.com", "b2")
}

// tenantsPush is a data plane running a fixture of two tenants' routes, in which
// VERSION-A and VERSION-B name the Service each tenant's route sends to (v1 or v2, each an
// echo backend named by tenant and version: a1, b2, …), with the operator's pusher aimed
// at it through the admin-proxy.
type tenantsPush struct {
	d       *dataPlane
	fixture string
	req     pusher.Request
	pushes  *pusher.Pusher
}

// startTenantsPush starts a data plane running fixture with both tenants on v1, pushed
// once by the pusher.
func startTenantsPush(t *testing.T, fixture string) *tenantsPush {
	t.Helper()
	backends := map[string]string{}
	for _, name := range []string{"a1", "a2", "b1", "b2"} {
		ns, version := "tenant-"+name[:1], "v"+name[1:]
		backends[version+"."+ns+".svc.cluster.local:8080"] = echoBackend(t, name).Listener.Addr().String()
	}
	p := &tenantsPush{fixture: fixture}
	p.d = startDataPlane(t, p.versions("v1", "v1"), backends)
	p.d.client.Transport = &http.Transport{DisableKeepAlives: true}
	p.req = startAdminPush(t, p.d).request(t)
	p.pushes = pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 30 * time.Second, InitialBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond}})
	if res := p.push(p.d.config(p.versions("v1", "v1"))); res.Programmed != 1 || len(res.Errors) != 0 {
		t.Fatalf("the running config: %+v", res)
	}
	return p
}

// versions is the fixture with tenant A's route sending to Service a and B's to b.
func (p *tenantsPush) versions(a, b string) string {
	return strings.NewReplacer("VERSION-A", a, "VERSION-B", b).Replace(p.fixture)
}

// push pushes cfg with the pusher.
func (p *tenantsPush) push(cfg emit.Result) pusher.Result {
	p.req.Config = pusherConfig(cfg)
	return p.pushes.Push(context.Background(), p.req)
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

package emit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// sharedHostFixture has one route per tenant on the same hostname, tenant A's on /a and
// tenant B's on /b, each sending to the Service VERSION-<tenant>: their routes are one
// host table.
var sharedHostFixture = strings.NewReplacer(
	"hostnames: [a.example.com]\n  rules: [{backendRefs",
	"hostnames: [shared.example.com]\n  rules: [{matches: [{path: {value: /a}}], backendRefs",
	"hostnames: [b.example.com]\n  rules: [{backendRefs",
	"hostnames: [shared.example.com]\n  rules: [{matches: [{path: {value: /b}}], backendRefs",
).Replace(tenantsFixture)

// TestDataPlaneRefusedRouteHurtsNoOtherRouteOfItsHostTable pushes with the operator's
// pusher through the admin-proxy a change of both tenants' routes on one hostname in
// which tenant B's Caddy routes do not provision (they name a handler this Caddy lacks):
// tenant A's change is served at once, B's route is left out (it is not served in any
// version), and the push reports B's route by its key with Caddy's error. Once B's routes
// provision, they are served too.
func TestDataPlaneRefusedRouteHurtsNoOtherRouteOfItsHostTable(t *testing.T) {
	p := startTenantsPush(t, sharedHostFixture)
	d := p.d
	serves := func(path, want string) {
		t.Helper()
		if e := d.expect(http.MethodGet, path, map[string]string{"Host": "shared.example.com"}, http.StatusOK); e.Backend != want {
			t.Errorf("%s: served by %q, want %q", path, e.Backend, want)
		}
	}

	serves("/a", "a1")
	serves("/b", "b1")

	next := d.config(p.versions("v2", "v2"))
	key := caddyjson.HostKey{Table: caddyjson.TableName(int32(d.listenPort), ""), Host: "shared.example.com"}
	bad := next
	bad.Tables = breakSource(t, next.Tables, key, "HTTPRoute/tenant-b/b")
	res := p.push(bad)
	if res.Programmed != 0 || res.Pushed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 1 {
		t.Fatalf("the push with tenant B's routes broken: %+v", res)
	}
	te := res.TableErrors[0]
	if te.Table != key.Table || te.Host != key.Host || len(te.Refused) != 1 || te.Refused[0].Key != "HTTPRoute/tenant-b/b" ||
		!strings.Contains(te.Refused[0].Error, "no_such_handler") || strings.Join(te.Pods, ",") != "caddy-0" {
		t.Fatalf("table error %+v, want shared.example.com on caddy-0 refusing HTTPRoute/tenant-b/b alone, naming the unknown handler", te)
	}
	t.Logf("reported: %+v", te)
	serves("/a", "a2")
	d.expect(http.MethodGet, "/b", map[string]string{"Host": "shared.example.com"}, http.StatusNotFound)

	if res := p.push(next); res.Programmed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 0 {
		t.Fatalf("the push with tenant B's routes mended: %+v", res)
	}
	serves("/a", "a2")
	serves("/b", "b2")
}

// breakSource returns tables with the routes of source in the host table of key replaced
// by routes naming a handler Caddy does not have.
func breakSource(t *testing.T, tables []caddyjson.HostTable, key caddyjson.HostKey, source string) []caddyjson.HostTable {
	t.Helper()
	out := append([]caddyjson.HostTable(nil), tables...)
	for i := range out {
		if out[i].Key() != key {
			continue
		}
		var routes []json.RawMessage
		if err := json.Unmarshal(out[i].Routes, &routes); err != nil {
			t.Fatal(err)
		}
		broken := 0
		for _, s := range out[i].Sources {
			if s.Key != source {
				continue
			}
			for _, j := range s.Routes {
				routes[j] = json.RawMessage(`{"handle":[{"handler":"no_such_handler"}]}`)
				broken++
			}
		}
		if broken == 0 {
			t.Fatalf("host table %+v has no routes of %s among its sources %+v", key, source, out[i].Sources)
		}
		b, err := json.Marshal(routes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[i].Routes, out[i].Hash = b, hex.EncodeToString(sum[:])
		return out
	}
	t.Fatalf("no host table %+v among %d", key, len(tables))
	return nil
}

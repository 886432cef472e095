package routetable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

func TestHostDispatchOrderAndFallThrough(t *testing.T) {
	g := startCaddy(t, "80/")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("80/", "a.example.com", route("/exact", static("exact"))),
		table("80/", "*.example.com", route("/wild", static("wild")), route("/both", static("wild"))),
		table("80/", "*.b.example.com", route("/both", static("wild-b"))),
		table("80/", "", route("/any", static("any")), route("/exact", static("any-exact"))),
	}})
	cases := map[string]struct{ host, path, want string }{
		"exact host":                    {"a.example.com", "/exact", "exact"},
		"exact falls through to wild":   {"a.example.com", "/wild", "wild"},
		"exact falls through to any":    {"a.example.com", "/any", "any"},
		"host case and port ignored":    {"A.Example.COM:8080", "/exact", "exact"},
		"longest suffix first":          {"x.b.example.com", "/both", "wild-b"},
		"shorter suffix after longer":   {"x.b.example.com", "/wild", "wild"},
		"many labels match a wildcard":  {"x.y.z.example.com", "/wild", "wild"},
		"wildcard needs a label":        {"b.example.com", "/both", "wild"},
		"suffix alone is not wildcard":  {"example.com", "/wild", ""},
		"other host gets any":           {"other.test", "/exact", "any-exact"},
		"exact host stops nothing":      {"a.example.com", "/none", ""},
		"port not digits is not a port": {"a.example.com:x", "/exact", "any-exact"},
		"prefix with colon is no label": {"a:b.example.com", "/wild", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if c.want == "" {
				g.expect(t, c.host, c.path, http.StatusNotFound, "")
				return
			}
			g.expect(t, c.host, c.path, http.StatusOK, c.want)
		})
	}
}

// badRoute is a route Caddy refuses: its path regexp does not compile.
func badRoute(body string) map[string]any {
	return map[string]any{
		"match":  []any{map[string]any{"path_regexp": map[string]any{"pattern": "("}}},
		"handle": []any{static(body)},
	}
}

// TestBadHostTableKeepsItsLastGoodVersion: of two tenants' host tables changed in one
// delta, the one that provisions serves its new version and the one that does not keeps
// serving its old one; the answer is 207 naming the failed host table, the error and the
// version it still holds.
func TestBadHostTableKeepsItsLastGoodVersion(t *testing.T) {
	for _, replace := range []bool{false, true} {
		t.Run(fmt.Sprintf("replace=%v", replace), func(t *testing.T) {
			g := startCaddy(t, "80/")
			a1, b1 := table("80/", "a.example.com", route("", static("a1"))), table("80/", "b.example.com", route("", static("b1")))
			gone := table("80/", "gone.example.com", route("", static("gone")))
			g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{a1, b1, gone}})
			a2, b2 := table("80/", "a.example.com", route("", static("a2"))), table("80/", "b.example.com", badRoute("b2"))
			d := caddyjson.TablesDelta{Replace: replace, Set: []caddyjson.HostTable{a2, b2}}
			if !replace {
				d.Delete = []caddyjson.HostKey{gone.Key()}
			}
			code, body := g.post(t, d)
			var res caddyjson.TablesResult
			if err := json.Unmarshal([]byte(body), &res); code != http.StatusMultiStatus || err != nil {
				t.Fatalf("POST: %d %s (%v), want 207 with a TablesResult", code, body, err)
			}
			want := caddyjson.HostTableError{Table: "80/", Host: "b.example.com", Held: b1.Hash}
			if len(res.Failed) != 1 || res.Failed[0].Key() != want.Key() || res.Failed[0].Held != want.Held ||
				!strings.Contains(res.Failed[0].Error, "missing closing )") || !strings.Contains(res.Error, `table "80/" host "b.example.com"`) {
				t.Errorf("result: %+v, want b.example.com failed (missing closing ), still holding %s)", res, b1.Hash)
			}
			g.expect(t, "a.example.com", "/", http.StatusOK, "a2")
			g.expect(t, "b.example.com", "/", http.StatusOK, "b1")
			g.expect(t, "gone.example.com", "/", http.StatusNotFound, "")
			st := g.state(t)
			hashes := map[string]string{}
			for _, ht := range st.Tables {
				hashes[ht.Host] = ht.Hash
			}
			if len(st.Tables) != 2 || hashes["a.example.com"] != a2.Hash || hashes["b.example.com"] != b1.Hash {
				t.Errorf("state: %+v, want a.example.com at a2 and b.example.com at b1", st)
			}
		})
	}
}

// TestBadNewHostTableStaysAbsent: a host table that never provisioned is answered with no
// version held, and its host is served as before (here, by nothing).
func TestBadNewHostTableStaysAbsent(t *testing.T) {
	g := startCaddy(t, "80/")
	good := table("80/", "a.example.com", route("", static("old")))
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{good}})
	cases := map[string]struct {
		route any
		want  string
	}{
		"invalid path_regexp": {badRoute("new"), "missing closing )"},
		"unknown handler":     {map[string]any{"handle": []any{map[string]any{"handler": "no_such_handler"}}}, "no_such_handler"},
		"unknown field":       {map[string]any{"handle": []any{static("x")}, "mach": []any{}}, "unknown field"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
				table("80/", "c.example.com", route("", static("c"))),
				table("80/", "b.example.com", c.route),
			}})
			var res caddyjson.TablesResult
			_ = json.Unmarshal([]byte(body), &res)
			if code != http.StatusMultiStatus || len(res.Failed) != 1 || res.Failed[0].Host != "b.example.com" ||
				res.Failed[0].Held != "" || !strings.Contains(res.Failed[0].Error, c.want) {
				t.Errorf("POST: %d %s, want 207 naming host b.example.com, no version held, and %q", code, body, c.want)
			}
			g.expect(t, "a.example.com", "/", http.StatusOK, "old")
			g.expect(t, "b.example.com", "/", http.StatusNotFound, "")
			g.expect(t, "c.example.com", "/", http.StatusOK, "c")
		})
	}
}

func TestTableWithoutHandlerIsValidated(t *testing.T) {
	g := startCaddy(t, "80/")
	code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("443/x.test", "x.test", map[string]any{"handle": []any{map[string]any{"handler": "no_such_handler"}}}),
	}})
	if code != http.StatusMultiStatus || !strings.Contains(body, `table \"443/x.test\" host \"x.test\"`) {
		t.Fatalf("POST: %d %s, want 207 naming the table", code, body)
	}
	if st := g.state(t); len(st.Tables) != 0 {
		t.Fatalf("state: %+v, want no host table", st)
	}
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("443/x.test", "x.test", route("", static("x")))}})
	if st := g.state(t); len(st.Tables) != 1 || st.Tables[0].Table != "443/x.test" {
		t.Fatalf("state: %+v, want the one host table", st)
	}
}

package routetable

import (
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

func TestBadHostTableIsRefusedAndChangesNothing(t *testing.T) {
	g := startCaddy(t, "80/")
	good := table("80/", "a.example.com", route("", static("old")))
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{good}})
	before := g.state(t)
	cases := map[string]struct {
		host  string
		route any
		want  string
	}{
		"invalid path_regexp": {"a.example.com", map[string]any{
			"match":  []any{map[string]any{"path_regexp": map[string]any{"pattern": "("}}},
			"handle": []any{static("new")},
		}, "missing closing )"},
		"unknown handler": {"b.example.com", map[string]any{"handle": []any{map[string]any{"handler": "no_such_handler"}}}, "no_such_handler"},
		"unknown field":   {"b.example.com", map[string]any{"handle": []any{static("x")}, "mach": []any{}}, "unknown field"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
				table("80/", "c.example.com", route("", static("never"))),
				table("80/", c.host, c.route),
			}})
			if code != http.StatusBadRequest || !strings.Contains(body, `table \"80/\" host \"`+c.host+`\"`) || !strings.Contains(body, c.want) {
				t.Errorf("POST: %d %s, want 400 naming table 80/, host %s and %q", code, body, c.host, c.want)
			}
			g.expect(t, "a.example.com", "/", http.StatusOK, "old")
			g.expect(t, "c.example.com", "/", http.StatusNotFound, "")
			if after := g.state(t); !equalState(before, after) {
				t.Errorf("state changed by a refused delta: %+v, was %+v", after, before)
			}
		})
	}
}

func TestTableWithoutHandlerIsValidated(t *testing.T) {
	g := startCaddy(t, "80/")
	code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("443/x.test", "x.test", map[string]any{"handle": []any{map[string]any{"handler": "no_such_handler"}}}),
	}})
	if code != http.StatusBadRequest || !strings.Contains(body, `table \"443/x.test\" host \"x.test\"`) {
		t.Fatalf("POST: %d %s, want 400 naming the table", code, body)
	}
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("443/x.test", "x.test", route("", static("x")))}})
	if st := g.state(t); len(st.Tables) != 1 || st.Tables[0].Table != "443/x.test" {
		t.Fatalf("state: %+v, want the one host table", st)
	}
}

func equalState(a, b caddyjson.TablesState) bool {
	if len(a.Tables) != len(b.Tables) {
		return false
	}
	for i := range a.Tables {
		if a.Tables[i].Table != b.Tables[i].Table || a.Tables[i].Host != b.Tables[i].Host || a.Tables[i].Hash != b.Tables[i].Hash {
			return false
		}
	}
	return true
}

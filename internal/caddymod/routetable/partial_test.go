package routetable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// shared is a host table of two tenants' routes on one hostname, interleaved as
// precedence orders them: routes 0 and 2 are tenant A's, route 1 tenant B's.
func shared(a0, b1, a2 any) caddyjson.HostTable {
	ht := table("80/", "shared.example.com", a0, b1, a2)
	ht.Sources = []caddyjson.RouteSource{{Key: "HTTPRoute/a/a", Routes: []int32{0, 2}}, {Key: "HTTPRoute/b/b", Routes: []int32{1}}}
	return ht
}

// post207 posts d and returns its TablesResult, which must come with a 207.
func post207(t *testing.T, g *gw, d caddyjson.TablesDelta) caddyjson.TablesResult {
	t.Helper()
	code, body := g.post(t, d)
	var res caddyjson.TablesResult
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusMultiStatus || err != nil || len(res.Failed) != 1 {
		t.Fatalf("POST: %d %s (%v), want 207 with one failed host table", code, body, err)
	}
	return res
}

// TestRefusedSourceHurtsNoOtherSourceOfItsHostTable: of a host table shared by two
// tenants, tenant B's new route does not provision: tenant A's new routes are served, B's
// route is left out, and the answer names B's source with Caddy's error and the version
// served (the hash of A's routes alone), which the state holds too.
func TestRefusedSourceHurtsNoOtherSourceOfItsHostTable(t *testing.T) {
	g := startCaddy(t, "80/")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		shared(route("/a", static("a1")), route("/b", static("b1")), route("/a2", static("a1-2"))),
	}})
	g.expect(t, "shared.example.com", "/b", http.StatusOK, "b1")

	res := post207(t, g, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		shared(route("/a", static("a2")), badRoute("b2"), route("/a2", static("a2-2"))),
	}})
	served := table("80/", "shared.example.com", route("/a", static("a2")), route("/a2", static("a2-2")))
	f := res.Failed[0]
	if f.Host != "shared.example.com" || f.Held != served.Hash || len(f.Refused) != 1 || f.Refused[0].Key != "HTTPRoute/b/b" ||
		!strings.Contains(f.Refused[0].Error, "missing closing )") || !strings.Contains(f.Error, "HTTPRoute/b/b") ||
		strings.Contains(f.Error, "HTTPRoute/a/a") {
		t.Errorf("failed: %+v, want HTTPRoute/b/b alone refused (missing closing )), holding A's routes %s", f, served.Hash)
	}
	g.expect(t, "shared.example.com", "/a", http.StatusOK, "a2")
	g.expect(t, "shared.example.com", "/a2", http.StatusOK, "a2-2")
	g.expect(t, "shared.example.com", "/b", http.StatusNotFound, "")
	if st := g.state(t); len(st.Tables) != 1 || st.Tables[0].Hash != served.Hash {
		t.Errorf("state: %+v, want the host table at %s", st, served.Hash)
	}

	mended := shared(route("/a", static("a2")), route("/b", static("b2")), route("/a2", static("a2-2")))
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{mended}})
	g.expect(t, "shared.example.com", "/b", http.StatusOK, "b2")
}

// TestHostTableFailingOtherwiseKeepsItsLastGoodVersion: when the error is no source's
// alone (here, a route of no source), or the sources are malformed, the host table fails
// whole as before.
func TestHostTableFailingOtherwiseKeepsItsLastGoodVersion(t *testing.T) {
	g := startCaddy(t, "80/")
	good := shared(route("/a", static("a1")), route("/b", static("b1")), route("/a2", static("a1-2")))
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{good}})
	noSource := table("80/", "shared.example.com", route("/a", static("a2")), route("/b", static("b2")), badRoute("x"))
	noSource.Sources = []caddyjson.RouteSource{{Key: "HTTPRoute/a/a", Routes: []int32{0}}, {Key: "HTTPRoute/b/b", Routes: []int32{1}}}
	outOfRange := shared(route("/a", static("a2")), badRoute("b2"), route("/a2", static("a2-2")))
	outOfRange.Sources[1].Routes = []int32{3}
	for name, c := range map[string]struct {
		ht   caddyjson.HostTable
		want string
	}{
		"route of no source": {noSource, "missing closing )"},
		"index out of range": {outOfRange, "sources[1].routes[0]: index 3 is not among the host table's 3 routes"},
	} {
		t.Run(name, func(t *testing.T) {
			f := post207(t, g, caddyjson.TablesDelta{Set: []caddyjson.HostTable{c.ht}}).Failed[0]
			if f.Held != good.Hash || len(f.Refused) != 0 || !strings.Contains(f.Error, c.want) {
				t.Errorf("failed: %+v, want the host table failed whole (%s), holding %s", f, c.want, good.Hash)
			}
			g.expect(t, "shared.example.com", "/a", http.StatusOK, "a1")
			g.expect(t, "shared.example.com", "/b", http.StatusOK, "b1")
		})
	}
}

// manySources is 20 sources, the last with the key of the fourth.
func manySources() []caddyjson.RouteSource {
	out := make([]caddyjson.RouteSource, 20)
	for i := range out {
		out[i].Key = fmt.Sprint("k", i%19)
	}
	out[19].Key = "k3"
	return out
}

// TestMalformedSourcesAreRefused: a source without a key, or a key given twice, makes the
// delta a 400 that names the field, and nothing changes.
func TestMalformedSourcesAreRefused(t *testing.T) {
	g := startCaddy(t, "80/")
	for name, c := range map[string]struct {
		sources []caddyjson.RouteSource
		want    string
	}{
		"empty key":            {[]caddyjson.RouteSource{{Routes: []int32{0}}}, "sources[0].key is empty"},
		"key twice":            {[]caddyjson.RouteSource{{Key: "k", Routes: []int32{0}}, {Key: "k"}}, `sources[1].key \"k\" is given twice`},
		"key twice among many": {manySources(), `sources[19].key \"k3\" is given twice`},
	} {
		t.Run(name, func(t *testing.T) {
			ht := table("80/", "a.example.com", route("", static("a")))
			ht.Sources = c.sources
			if code, body := g.post(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{ht}}); code != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Errorf("POST: %d %s, want 400 naming %s", code, body, c.want)
			}
			if st := g.state(t); len(st.Tables) != 0 {
				t.Errorf("state: %+v, want nothing held", st)
			}
		})
	}
}

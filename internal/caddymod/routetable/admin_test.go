package routetable

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

func TestCutOffBodyIsRefused(t *testing.T) {
	g := startCaddy(t, "80/")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "a.test", route("", static("old")))}})
	body, _ := json.Marshal(caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("80/", "a.test", route("", static("new")))}})
	cases := map[string]struct {
		sent          []byte
		contentLength int
	}{
		"cut inside the JSON":      {body[:len(body)/2], len(body)},
		"whole JSON, length short": {body, len(body) + 100},
		"length over the limit":    {body, maxDelta + 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("unix", g.sock)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", caddyjson.TablesPath, c.contentLength)
			conn.Write(c.sent)
			conn.(*net.UnixConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("cut-off POST: %d, want 400", resp.StatusCode)
			}
			g.expect(t, "a.test", "/", http.StatusOK, "old")
		})
	}
}

func TestBadDeltaIsRefused(t *testing.T) {
	g := startCaddy(t, "80/")
	cases := map[string]struct{ body, want string }{
		"unknown field":    {`{"sets":[]}`, `unknown field \"sets\"`},
		"trailing data":    {`{} {}`, "data after the delta"},
		"set twice":        {`{"set":[{"table":"t","host":"a"},{"table":"t","host":"a"}]}`, `set[1]: table \"t\" host \"a\" is set twice`},
		"set and deleted":  {`{"set":[{"table":"t","host":"a"}],"delete":[{"table":"t","host":"a"}]}`, "both set and deleted"},
		"upper case host":  {`{"set":[{"table":"t","host":"A.test"}]}`, "host must be lower case"},
		"bad wildcard":     {`{"set":[{"table":"t","host":"*x.test"}]}`, "a wildcard host"},
		"empty table name": {`{"set":[{"host":"a"}]}`, "set[0]: table is empty"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := g.do(t, http.MethodPost, []byte(c.body))
			if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Errorf("POST %s: %d %s, want 400 with %q", c.body, code, body, c.want)
			}
		})
	}
	if st := g.state(t); len(st.Tables) != 0 {
		t.Errorf("state after refused deltas: %+v, want none", st)
	}
	if code, _ := g.do(t, http.MethodPut, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", code)
	}
}

func TestReplaceDeleteAndState(t *testing.T) {
	g := startCaddy(t, "80/", "443/")
	a, b, c := table("80/", "a.test", route("", static("a"))), table("80/", "*.b.test", route("", static("b"))), table("443/", "", route("", static("c")))
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{c, a, b}})
	wantState(t, g, c, b, a)
	g.expect(t, "x.b.test", "/", http.StatusOK, "b")

	g.mustPost(t, caddyjson.TablesDelta{Delete: []caddyjson.HostKey{b.Key(), {Table: "80/", Host: "missing.test"}}})
	wantState(t, g, c, a)
	g.expect(t, "x.b.test", "/", http.StatusNotFound, "")
	g.expect(t, "a.test", "/", http.StatusOK, "a")

	a2 := table("80/", "a.test", route("", static("a2")))
	g.mustPost(t, caddyjson.TablesDelta{Replace: true, Set: []caddyjson.HostTable{a2}})
	wantState(t, g, a2)
	g.expect(t, "a.test", "/", http.StatusOK, "a2")

	noHash := a2
	noHash.Hash = ""
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{noHash}})
	wantState(t, g, a2)
}

// wantState checks GET answers the host tables, without routes, in that order.
func wantState(t *testing.T, g *gw, tables ...caddyjson.HostTable) {
	t.Helper()
	want := caddyjson.TablesState{Tables: []caddyjson.HostTable{}}
	for _, ht := range tables {
		ht.Routes = nil
		want.Tables = append(want.Tables, ht)
	}
	w, _ := json.Marshal(want)
	_, got := g.do(t, http.MethodGet, nil)
	if strings.TrimSpace(got) != string(w) {
		t.Errorf("GET state:\n%s\nwant\n%s", got, w)
	}
}

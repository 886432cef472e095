package pusher_test

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// fakeCaddy answers like the admin API of our Caddy build: POST /load runs a frame, GET
// /id/<id> answers 200 for the id of the frame it runs, POST caddyjson.TablesPath applies a
// TablesDelta whole, GET caddyjson.TablesPath answers the TablesState.
type fakeCaddy struct {
	mu     sync.Mutex
	frame  string // the body of the last load
	tables map[caddyjson.HostKey]caddyjson.HostTable
	// calls are the requests served, "METHOD path", and bodies their bodies.
	calls  []string
	bodies [][]byte
	// rejectTables, when set, answers every delta 400 with this text; failTables applies
	// it and answers 500 with this text, as when Caddy's answer is lost.
	rejectTables, failTables string
	// refuse names hosts whose host tables do not provision, with the error: they keep
	// their versions, the rest of a delta is applied, and the answer is 207.
	refuse map[string]string
	// rejectLoad answers every load 400 with this text.
	rejectLoad string
	// noState answers GET of the tables 404, as a Caddy without them would.
	noState bool
	// discard answers every delta 200 without reading it, so that a benchmark measures the
	// Pusher and not the fake.
	discard bool
}

func newFakeCaddy() *fakeCaddy {
	return &fakeCaddy{tables: map[caddyjson.HostKey]caddyjson.HostTable{}}
}

// fakeFleet starts one pod per fake Caddy.
func fakeFleet(tb testing.TB, p *pki, cs ...*fakeCaddy) *fleet {
	return startFleet(tb, p, len(cs), func(w http.ResponseWriter, r *http.Request, i int) {
		cs[i].serve(w, r)
	})
}

func (c *fakeCaddy) serve(w http.ResponseWriter, r *http.Request) {
	if c.discard {
		return
	}
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, r.Method+" "+r.URL.Path)
	c.bodies = append(c.bodies, body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/load":
		if c.rejectLoad != "" {
			http.Error(w, c.rejectLoad, http.StatusBadRequest)
			return
		}
		c.frame = string(body)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/id/"):
		if c.frame == "" || strings.TrimPrefix(r.URL.Path, "/id/") != frameID(c.frame) {
			http.Error(w, "unknown object ID", http.StatusNotFound)
		}
	case r.Method == http.MethodGet && r.URL.Path == caddyjson.TablesPath && !c.noState:
		var st caddyjson.TablesState
		st.Tables = []caddyjson.HostTable{}
		for _, t := range c.tables {
			t.Routes = nil
			st.Tables = append(st.Tables, t)
		}
		slices.SortFunc(st.Tables, func(a, b caddyjson.HostTable) int {
			return strings.Compare(a.Table+"\x00"+a.Host, b.Table+"\x00"+b.Host)
		})
		_ = json.NewEncoder(w).Encode(st)
	case r.Method == http.MethodPost && r.URL.Path == caddyjson.TablesPath:
		c.apply(w, body)
	default:
		http.NotFound(w, r)
	}
}

func (c *fakeCaddy) apply(w http.ResponseWriter, body []byte) {
	var d caddyjson.TablesDelta
	switch {
	case c.rejectTables != "":
		http.Error(w, c.rejectTables, http.StatusBadRequest)
		return
	case json.Unmarshal(body, &d) != nil:
		http.Error(w, "bad delta", http.StatusBadRequest)
		return
	}
	if c.failTables != "" {
		defer http.Error(w, c.failTables, http.StatusInternalServerError)
	}
	var res caddyjson.TablesResult
	keep := map[caddyjson.HostKey]caddyjson.HostTable{}
	for _, t := range d.Set {
		if msg, ok := c.refuse[t.Host]; ok {
			res.Failed = append(res.Failed, caddyjson.HostTableError{Table: t.Table, Host: t.Host, Error: msg, Held: c.tables[t.Key()].Hash})
			if old, ok := c.tables[t.Key()]; ok {
				keep[t.Key()] = old
			}
		}
	}
	if d.Replace {
		clear(c.tables)
	}
	for _, t := range d.Set {
		c.tables[t.Key()] = t
	}
	for _, k := range d.Delete {
		delete(c.tables, k)
	}
	for _, f := range res.Failed {
		delete(c.tables, f.Key())
		if old, ok := keep[f.Key()]; ok {
			c.tables[f.Key()] = old
		}
	}
	if len(res.Failed) > 0 {
		res.Error = fmt.Sprintf("%d host tables did not provision", len(res.Failed))
		w.WriteHeader(http.StatusMultiStatus)
		_ = json.NewEncoder(w).Encode(res)
	}
}

// take returns the requests served since the last take, and their bodies.
func (c *fakeCaddy) take() ([]string, [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls, bodies := c.calls, c.bodies
	c.calls, c.bodies = nil, nil
	return calls, bodies
}

// holds is the fake's host tables, "table|host|routes", sorted.
func (c *fakeCaddy) holds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, t := range c.tables {
		out = append(out, t.Table+"|"+t.Host+"|"+string(t.Routes))
	}
	slices.Sort(out)
	return out
}

// running is the frame the fake runs.
func (c *fakeCaddy) running() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frame
}

func (c *fakeCaddy) set(f func(c *fakeCaddy)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// frame is a frame whose hash is hash, carrying the id frameID answers for it.
func frame(hash string, tables ...caddyjson.HostTable) pusher.Config {
	body := `{"hash":"` + hash + `"}`
	return pusher.Config{JSON: []byte(body), Hash: hash, ID: frameID(body), Tables: tables}
}

func frameID(body string) string {
	return "config-" + strings.TrimSuffix(strings.TrimPrefix(body, `{"hash":"`), `"}`)
}

// table is the host table of host in the table of port 80 and no hostname, with one route
// answering body.
func table(host, body string) caddyjson.HostTable {
	routes := fmt.Sprintf(`[{"handle":[{"handler":"static_response","body":%q}]}]`, body)
	sum := sha256.Sum256([]byte(routes))
	return caddyjson.HostTable{
		Table: caddyjson.TableName(80, ""), Host: host, Hash: hex.EncodeToString(sum[:]), Routes: json.RawMessage(routes),
	}
}

// held is what holds answers for these tables.
func held(ts ...caddyjson.HostTable) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Table+"|"+t.Host+"|"+string(t.Routes))
	}
	slices.Sort(out)
	return out
}

// delta decodes a body sent to the tables' path.
func delta(tb testing.TB, body []byte) caddyjson.TablesDelta {
	tb.Helper()
	var d caddyjson.TablesDelta
	if err := json.Unmarshal(body, &d); err != nil {
		tb.Fatalf("a delta %q: %v", body, err)
	}
	return d
}

// summary is a delta in short: "replace set=a,b delete=c", the host "" written (any).
func summary(d caddyjson.TablesDelta) string {
	var parts []string
	if d.Replace {
		parts = append(parts, "replace")
	}
	var set, del []string
	name := func(host string) string { return cmp.Or(host, "(any)") }
	for _, t := range d.Set {
		set = append(set, name(t.Host))
	}
	for _, k := range d.Delete {
		del = append(del, name(k.Host))
	}
	if set != nil {
		parts = append(parts, "set="+strings.Join(set, ","))
	}
	if del != nil {
		parts = append(parts, "delete="+strings.Join(del, ","))
	}
	return strings.Join(parts, " ")
}

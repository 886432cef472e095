package pusher_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/testports"
)

// testRouteTables runs in TestPushToRealCaddy, against the Caddy it started: a frame with
// one HTTP server serving the route table of port 80, and host tables answering their
// names. Each push is checked by the requests Caddy serves after it.
func testRouteTables(t *testing.T, push *pusher.Pusher, req pusher.Request, sock string) {
	port := testports.Port(t)
	frameJSON := func(grace string) []byte {
		return fmt.Appendf(nil, `{"admin":{"listen":"unix/%s","config":{"persist":false}},"apps":{"http":{"grace_period":%q,"servers":{"web":{`+
			`"listen":["127.0.0.1:%d"],"automatic_https":{"disable":true},"routes":[{"handle":[{"handler":%q,"table":%q}]}]}}}}}`,
			sock, grace, port, caddyjson.RouteTableHandler, caddyjson.TableName(80, ""))
	}
	config := func(frame []byte, tables ...caddyjson.HostTable) pusher.Config {
		sum := sha256.Sum256(frame)
		hash := hex.EncodeToString(sum[:])
		// The "@id" emit puts on the admin object, so that GET /id/ finds the frame.
		withID := strings.Replace(string(frame), `"admin":{`, `"admin":{"@id":"`+emit.ConfigID(hash)+`",`, 1)
		return pusher.Config{JSON: []byte(withID), Hash: hash, ID: emit.ConfigID(hash), Tables: tables}
	}
	serves := func(t *testing.T, want map[string]string) {
		t.Helper()
		// A new connection each: a frame load closes the old servers' connections.
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for host, body := range want {
			r, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			r.Host = host
			resp, err := c.Do(r)
			// A connection the old servers accepted as a frame load shut them down is
			// closed unanswered: it is tried again on a new one.
			for try := 0; err != nil && try < 20; try++ {
				time.Sleep(50 * time.Millisecond)
				resp, err = c.Do(r)
			}
			if err != nil {
				t.Fatalf("%s: %v", host, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := string(b)
			if resp.StatusCode != http.StatusOK {
				got = fmt.Sprint(resp.StatusCode)
			}
			if got != body {
				t.Fatalf("%s answered %q, want %q", host, got, body)
			}
		}
	}
	// runs reports whether Caddy runs the frame of cfg.
	runs := func(t *testing.T, cfg pusher.Config) bool {
		t.Helper()
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			},
		}}
		resp, err := c.Get("http://localhost/id/" + cfg.ID)
		if err != nil {
			t.Fatalf("asking Caddy for %s: %v", cfg.ID, err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	a, a2, w := table("a.example", "a1"), table("a.example", "a2"), table("*.example", "w1")
	frame := frameJSON("1s")
	first := config(frame, a, w)
	req.Config = first

	t.Run("the frame and its host tables are pushed and serve", func(t *testing.T) {
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		serves(t, map[string]string{"a.example": "a1", "b.example": "w1", "A.Example:8080": "a1", "x.other": "404"})
	})

	t.Run("a changed host table is sent alone", func(t *testing.T) {
		req.Config = config(frame, a2, w)
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		body, _ := json.Marshal(caddyjson.TablesDelta{Set: []caddyjson.HostTable{a2}})
		if res.Bytes != len(body) {
			t.Fatalf("sent %d bytes, want the %d of the delta", res.Bytes, len(body))
		}
		serves(t, map[string]string{"a.example": "a2", "b.example": "w1"})
	})

	t.Run("a dropped host table is deleted", func(t *testing.T) {
		req.Config = config(frame, a2)
		if res := push.Push(context.Background(), req); res.Programmed != 1 || res.Pushed != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %+v", res)
		}
		serves(t, map[string]string{"a.example": "a2", "b.example": "404"})
	})

	t.Run("a host table Caddy cannot provision is named and keeps its last version; the rest is served", func(t *testing.T) {
		bad := table("bad.example", "x")
		bad.Routes = json.RawMessage(`[{"handle":[{"handler":"no_such_handler"}]}]`)
		sum := sha256.Sum256(bad.Routes)
		bad.Hash = hex.EncodeToString(sum[:])
		rejected := req
		rejected.Config = config(frameJSON("2s"), a, bad)
		for attempt := range 2 {
			res := push.Push(context.Background(), rejected)
			if res.Programmed != 0 || res.Pushed != 1 || len(res.Errors) != 0 {
				t.Fatalf("attempt %d: got %+v", attempt, res)
			}
			if te := res.TableErrors; len(te) != 1 || te[0].Table != "80/" || te[0].Host != "bad.example" ||
				!strings.Contains(te[0].Error, `table "80/" host "bad.example"`) || !strings.Contains(te[0].Error, "no_such_handler") ||
				strings.Join(te[0].Pods, ",") != "pod-0" {
				t.Fatalf("table errors: %+v, want Caddy's text naming bad.example and the module, on pod-0", te)
			}
			// The other host table's change and the frame were taken, and acknowledged: a
			// retry sends the failed host table alone.
			if attempt == 1 {
				body, _ := json.Marshal(caddyjson.TablesDelta{Set: []caddyjson.HostTable{bad}})
				if res.Bytes != len(body) {
					t.Fatalf("the retry sent %d bytes, want the %d of the failed host table", res.Bytes, len(body))
				}
			}
			serves(t, map[string]string{"a.example": "a1", "bad.example": "404"})
			if !runs(t, rejected.Config) {
				t.Fatalf("attempt %d: Caddy does not run the new frame", attempt)
			}
		}
		res := push.Push(context.Background(), req)
		if res.Programmed != 1 || res.Pushed != 1 || len(res.Errors) != 0 || len(res.TableErrors) != 0 {
			t.Fatalf("back to the config before: got %+v", res)
		}
		serves(t, map[string]string{"a.example": "a2", "bad.example": "404"})
	})

	t.Run("a pusher that does not know the pod asks it and sends the difference only", func(t *testing.T) {
		fresh := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 30 * time.Second}})
		if res := fresh.Push(context.Background(), req); res.Verified != 1 || res.Pushed != 0 || res.Programmed != 1 {
			t.Fatalf("the running config: got %+v", res)
		}
		fresh = pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 30 * time.Second}})
		next := req
		next.Config = config(frame, a2, w)
		res := fresh.Push(context.Background(), next)
		body, _ := json.Marshal(caddyjson.TablesDelta{Set: []caddyjson.HostTable{w}})
		if res.Verified != 0 || res.Pushed != 1 || res.Programmed != 1 || res.Bytes != len(body) {
			t.Fatalf("one more host table: got %+v, want %d bytes sent", res, len(body))
		}
		serves(t, map[string]string{"a.example": "a2", "b.example": "w1"})
	})
}

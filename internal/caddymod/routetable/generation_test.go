package routetable

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// A generation retired while requests acquire and release it is cleaned up exactly once,
// and never while a request holds it.
func TestGenerationCleanupRacesAcquire(t *testing.T) {
	for range 300 {
		var held, cleanups atomic.Int64
		var bad atomic.Bool
		g := &generation{cancel: func() {
			cleanups.Add(1)
			if held.Load() > 0 {
				bad.Store(true)
			}
		}}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 50 {
					if g.acquire() {
						held.Add(1)
						if g.cleaned.Load() {
							bad.Store(true)
						}
						held.Add(-1)
						g.release()
					}
				}
			}()
		}
		close(start)
		g.retire()
		wg.Wait()
		if bad.Load() {
			t.Fatal("a generation was cleaned up while a request held it")
		}
		if n := cleanups.Load(); n != 1 {
			t.Fatalf("a retired, drained generation was cleaned up %d times, want 1", n)
		}
	}
}

// During a config reload two handlers serve a table: a delta reaches both, and once
// the old one is cleaned up only the new one.
func TestDeltaReachesEveryLiveHandler(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	old, cur := &Handler{Table: "dual"}, &Handler{Table: "dual"}
	for _, h := range []*Handler{old, cur} {
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		defer h.Cleanup()
	}
	p := freshProbe("dual")
	set := func() {
		t.Helper()
		if err := applyAll(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("dual", "d.test", route("", probeHandler("dual")))}}); err != nil {
			t.Fatal(err)
		}
	}
	set()
	for _, h := range []*Handler{old, cur} {
		if body := serveDirect(t, h, "d.test"); body != "dual" {
			t.Errorf("handler answered %q, want dual", body)
		}
	}
	if n := p.provisioned.Load(); n != 2 {
		t.Errorf("provisioned %d generations for two live handlers, want 2", n)
	}
	old.Cleanup()
	set()
	if pr, c := p.provisioned.Load(), p.cleaned.Load(); pr != 3 || c != 2 {
		t.Errorf("after the old handler's cleanup: provisioned %d, cleaned %d; want 3 and 2", pr, c)
	}
	if err := applyAll(&caddyjson.TablesDelta{Delete: []caddyjson.HostKey{{Table: "dual", Host: "d.test"}}}); err != nil {
		t.Fatal(err)
	}
}

// TestHostTableFailingForOneHandlerIsTakenByNone: during a reload a table has two live
// handlers; a host table that provisions for one and not the other is taken by neither
// (the generation made for the first is cleaned up), both keep serving its last good
// version, and the delta's other host table is taken by both.
func TestHostTableFailingForOneHandlerIsTakenByNone(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	old, cur := &Handler{Table: "half"}, &Handler{Table: "half"}
	for _, h := range []*Handler{old, cur} {
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		defer h.Cleanup()
	}
	if err := applyAll(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("half", "h.test", route("", static("h1"))), table("half", "o.test", route("", static("o1"))),
	}}); err != nil {
		t.Fatal(err)
	}
	p := freshProbe("half")
	p.failAt = 2
	res, err := reg.apply(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("half", "h.test", route("", probeHandler("half"))), table("half", "o.test", route("", static("o2"))),
	}})
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Host != "h.test" || !strings.Contains(res.Failed[0].Error, "provision 2 fails") {
		t.Fatalf("apply: %+v, %v; want h.test failed by its second provision", res, err)
	}
	for _, h := range []*Handler{old, cur} {
		if body := serveDirect(t, h, "h.test"); body != "h1" {
			t.Errorf("h.test answered %q, want its last good version h1", body)
		}
		if body := serveDirect(t, h, "o.test"); body != "o2" {
			t.Errorf("o.test answered %q, want o2", body)
		}
	}
	// Caddy cleans up the module that failed, and the delta the one that provisioned.
	if pr, c := p.provisioned.Load(), p.cleaned.Load(); pr != 2 || c != 2 {
		t.Errorf("provisioned %d, cleaned %d; want both cleaned", pr, c)
	}
	if err := applyAll(&caddyjson.TablesDelta{Replace: true}); err != nil {
		t.Fatal(err)
	}
}

func serveDirect(t *testing.T, h *Handler, host string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://"+host+"/", nil)
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r.WithContext(ctx), nil); err != nil {
		t.Fatal(err)
	}
	return w.Body.String()
}

// A request that reaches a handler after its config was unloaded (on a connection Caddy
// did not close, such as an h2c one) is served by the table's live handler, with the
// current routes, rather than answered 404.
func TestUnloadedHandlerServesThroughTheLiveOne(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	old, cur := &Handler{Table: "unloaded"}, &Handler{Table: "unloaded"}
	for _, h := range []*Handler{old, cur} {
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := applyAll(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("unloaded", "u.test", route("", static("v1")))}}); err != nil {
		t.Fatal(err)
	}
	old.Cleanup()
	if err := applyAll(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("unloaded", "u.test", route("", static("v2")))}}); err != nil {
		t.Fatal(err)
	}
	if body := serveDirect(t, old, "u.test"); body != "v2" {
		t.Errorf("an unloaded handler answered %q, want the live handler's v2", body)
	}
	cur.Cleanup()
	if body := serveDirect(t, old, "u.test"); body != "" {
		t.Errorf("an unloaded handler without a live successor answered %q, want an empty 404", body)
	}
	if err := applyAll(&caddyjson.TablesDelta{Delete: []caddyjson.HostKey{{Table: "unloaded", Host: "u.test"}}}); err != nil {
		t.Fatal(err)
	}
}

// TestSourceFailingForOneHandlerIsRefused: during a reload a table has two live
// handlers, and tenant B's new route provisions for one of them only. B's source is
// refused, as the whole host table was, and tenant A's new route is served by both.
func TestSourceFailingForOneHandlerIsRefused(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	picky := ctx
	picky.Context = context.WithValue(ctx.Context, refusing{}, "picky")
	old, cur := &Handler{Table: "picky"}, &Handler{Table: "picky"}
	for h, hctx := range map[*Handler]caddy.Context{old: picky, cur: ctx} {
		if err := h.Provision(hctx); err != nil {
			t.Fatal(err)
		}
		defer h.Cleanup()
	}
	if err := applyAll(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{table("picky", "p.test", route("", static("a1")))}}); err != nil {
		t.Fatal(err)
	}
	ht := table("picky", "p.test", route("/b", probeHandler("picky")), route("", static("a2")))
	ht.Sources = []caddyjson.RouteSource{{Key: "HTTPRoute/a/a", Routes: []int32{1}}, {Key: "HTTPRoute/b/b", Routes: []int32{0}}}
	res, err := reg.apply(&caddyjson.TablesDelta{Set: []caddyjson.HostTable{ht}})
	if err != nil || len(res.Failed) != 1 || len(res.Failed[0].Refused) != 1 || res.Failed[0].Refused[0].Key != "HTTPRoute/b/b" ||
		!strings.Contains(res.Failed[0].Refused[0].Error, "refused in this context") {
		t.Fatalf("apply: %+v, %v; want HTTPRoute/b/b alone refused", res, err)
	}
	for _, h := range []*Handler{old, cur} {
		if body := serveDirect(t, h, "p.test"); body != "a2" {
			t.Errorf("p.test answered %q, want tenant A's new route a2", body)
		}
	}
	if err := applyAll(&caddyjson.TablesDelta{Replace: true}); err != nil {
		t.Fatal(err)
	}
}

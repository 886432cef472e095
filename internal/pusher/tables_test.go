package pusher_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// tableStep is one push of a sequence against fake Caddies, and what each must have been
// sent.
type tableStep struct {
	name   string
	config pusher.Config
	// calls are the requests each pod is to serve, "METHOD path"; deltas the summary of
	// each delta among them, in order.
	calls  [][]string
	deltas [][]string
	want   pusher.Result // Programmed, Pushed, Verified and the number of Errors
	errors []string      // when set, Errors exactly
}

// run pushes s.config and checks what each fake Caddy was sent, and that Result.Bytes is
// the sum of the bodies they received.
func (s tableStep) run(t *testing.T, push *pusher.Pusher, req pusher.Request, cs ...*fakeCaddy) pusher.Result {
	t.Helper()
	req.Config = s.config
	res := push.Push(context.Background(), req)
	if res.Programmed != s.want.Programmed || res.Pushed != s.want.Pushed || res.Verified != s.want.Verified || len(res.Errors) != len(s.want.Errors) {
		t.Fatalf("%s: got %+v, want %+v", s.name, res, s.want)
	}
	if s.errors != nil && !slices.Equal(res.Errors, s.errors) {
		t.Fatalf("%s: errors %q, want %q", s.name, res.Errors, s.errors)
	}
	bytes := 0
	for i, c := range cs {
		calls, bodies := c.take()
		if want := s.calls[i]; !slices.Equal(calls, want) {
			t.Fatalf("%s: pod %d served %q, want %q", s.name, i, calls, want)
		}
		var deltas []string
		for j, call := range calls {
			if call == "POST "+caddyjson.TablesPath {
				deltas = append(deltas, summary(delta(t, bodies[j])))
			}
			if call[:4] == "POST" {
				bytes += len(bodies[j])
			}
		}
		if want := s.deltas[i]; !slices.Equal(deltas, want) {
			t.Fatalf("%s: pod %d was sent the deltas %q, want %q", s.name, i, deltas, want)
		}
	}
	if res.Bytes != bytes {
		t.Fatalf("%s: Result.Bytes is %d, the pods received %d", s.name, res.Bytes, bytes)
	}
	return res
}

const (
	getID     = "GET /id/config-"
	getState  = "GET " + caddyjson.TablesPath
	postDelta = "POST " + caddyjson.TablesPath
	postLoad  = "POST /load"
)

// TestPushSendsOnlyWhatChanged runs one sequence of pushes to one pod: after the first,
// each sends the changed host tables, the frame only when it changed, and deletes after
// the frame, or with the sets in one request when the frame is unchanged.
func TestPushSendsOnlyWhatChanged(t *testing.T) {
	p := newPKI(t)
	c := newFakeCaddy()
	f := fakeFleet(t, p, c)
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	a, a2 := table("a.example", "a1"), table("a.example", "a2")
	b, w, d, e := table("b.example", "b1"), table("*.example", "w1"), table("d.example", "d1"), table("", "any")

	steps := []struct {
		tableStep
		holds []caddyjson.HostTable
	}{
		{tableStep{name: "an unknown pod is asked, then sent every host table and the frame", config: frame("f1", a, b, w),
			calls:  [][]string{{getID + "f1", getState, postDelta, postLoad}},
			deltas: [][]string{{"replace set=a.example,b.example,*.example"}},
			want:   pusher.Result{Programmed: 1, Pushed: 1}}, []caddyjson.HostTable{a, b, w}},
		{tableStep{name: "an unchanged config sends nothing", config: frame("f1", a, b, w),
			calls: [][]string{nil}, deltas: [][]string{nil},
			want: pusher.Result{Programmed: 1}}, []caddyjson.HostTable{a, b, w}},
		{tableStep{name: "a changed host table is all that is sent", config: frame("f1", a2, b, w),
			calls: [][]string{{postDelta}}, deltas: [][]string{{"set=a.example"}},
			want: pusher.Result{Programmed: 1, Pushed: 1}}, []caddyjson.HostTable{a2, b, w}},
		{tableStep{name: "a new and a removed host table go in one request when the frame is unchanged", config: frame("f1", a2, b, d),
			calls: [][]string{{postDelta}}, deltas: [][]string{{"set=d.example delete=*.example"}},
			want: pusher.Result{Programmed: 1, Pushed: 1}}, []caddyjson.HostTable{a2, b, d}},
		{tableStep{name: "a changed frame goes between the sets and the deletes", config: frame("f2", a2, e),
			calls:  [][]string{{postDelta, postLoad, postDelta}},
			deltas: [][]string{{"set=(any)", "delete=b.example,d.example"}},
			want:   pusher.Result{Programmed: 1, Pushed: 1}}, []caddyjson.HostTable{a2, e}},
		{tableStep{name: "a changed frame alone is sent alone", config: frame("f3", a2, e),
			calls: [][]string{{postLoad}}, deltas: [][]string{nil},
			want: pusher.Result{Programmed: 1, Pushed: 1}}, []caddyjson.HostTable{a2, e}},
		{tableStep{name: "dropping every host table deletes them", config: frame("f3"),
			calls: [][]string{{postDelta}}, deltas: [][]string{{"delete=(any),a.example"}},
			want: pusher.Result{Programmed: 1, Pushed: 1}}, nil},
	}
	for _, s := range steps {
		s.run(t, push, req, c)
		if got, want := c.holds(), held(s.holds...); !slices.Equal(got, want) {
			t.Fatalf("%s: the pod holds %q, want %q", s.name, got, want)
		}
		if got := c.running(); got != string(s.config.JSON) {
			t.Fatalf("%s: the pod runs %s, want %s", s.name, got, s.config.JSON)
		}
	}
}

// TestPushAsksWhatAnUnknownPodHolds: a pod the Pusher does not know (an operator that
// restarted) is sent only the difference between what it holds and the config.
func TestPushAsksWhatAnUnknownPodHolds(t *testing.T) {
	p := newPKI(t)
	c := newFakeCaddy()
	f := fakeFleet(t, p, c)
	a, b0, b, w, x := table("a.example", "a1"), table("b.example", "b0"), table("b.example", "b1"), table("*.example", "w1"), table("x.example", "x1")
	c.set(func(c *fakeCaddy) {
		c.frame = string(frame("f1").JSON)
		for _, h := range []caddyjson.HostTable{a, b0, x} {
			c.tables[h.Key()] = h
		}
	})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	fresh := func() *pusher.Pusher {
		return pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	}

	tableStep{name: "it runs the frame: one request sets the differing and deletes the extra host tables", config: frame("f1", a, b, w),
		calls:  [][]string{{getID + "f1", getState, postDelta}},
		deltas: [][]string{{"set=b.example,*.example delete=x.example"}},
		want:   pusher.Result{Programmed: 1, Pushed: 1}}.run(t, fresh(), req, c)
	if got, want := c.holds(), held(a, b, w); !slices.Equal(got, want) {
		t.Fatalf("the pod holds %q, want %q", got, want)
	}
	tableStep{name: "it runs the config: nothing is sent", config: frame("f1", a, b, w),
		calls: [][]string{{getID + "f1", getState}}, deltas: [][]string{nil},
		want: pusher.Result{Programmed: 1, Verified: 1}}.run(t, fresh(), req, c)
	tableStep{name: "it runs another frame and the host tables: the frame alone is sent", config: frame("f2", a, b, w),
		calls: [][]string{{getID + "f2", getState, postLoad}}, deltas: [][]string{nil},
		want: pusher.Result{Programmed: 1, Pushed: 1}}.run(t, fresh(), req, c)
}

// TestPushReplacesWhatItCannotAsk: a pod that cannot say which host tables it holds, and a
// restarted pod, which holds none, are sent all of them as the whole set, then the frame.
func TestPushReplacesWhatItCannotAsk(t *testing.T) {
	p := newPKI(t)
	c := newFakeCaddy()
	f := fakeFleet(t, p, c)
	a, b, x := table("a.example", "a1"), table("b.example", "b1"), table("x.example", "x1")
	c.set(func(c *fakeCaddy) { c.tables[x.Key()], c.noState = x, true })
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}

	tableStep{name: "no answer to GET: replace", config: frame("f1", a, b),
		calls:  [][]string{{getID + "f1", getState, postDelta, postLoad}},
		deltas: [][]string{{"replace set=a.example,b.example"}},
		want:   pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)
	if got, want := c.holds(), held(a, b); !slices.Equal(got, want) {
		t.Fatalf("the pod holds %q, want %q", got, want)
	}

	// Caddy restarts: it runs nothing and holds nothing, and its pod has a new Key.
	c.set(func(c *fakeCaddy) { c.frame, c.noState = "", false; clear(c.tables) })
	req.Targets = f.targets(1)
	tableStep{name: "a restarted pod", config: frame("f1", a, b),
		calls:  [][]string{{getID + "f1", getState, postDelta, postLoad}},
		deltas: [][]string{{"replace set=a.example,b.example"}},
		want:   pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)
	if got, want := c.holds(), held(a, b); !slices.Equal(got, want) {
		t.Fatalf("the restarted pod holds %q, want %q", got, want)
	}
}

// TestPushRejectedTables: Caddy's 400 to a delta reaches Errors as a rejected load's does,
// the frame is not sent after it, the other pod is programmed, and nothing is recorded for
// the rejecting pod: the same delta is sent again, and going back to what it held sends
// nothing. A 500 leaves open what Caddy did: going back deletes the host table it set.
func TestPushRejectedTables(t *testing.T) {
	const rejection = `{"error":"table \"80/\" host \"a.example\": loading handler modules: unknown module: http.handlers.nope"}`
	p := newPKI(t)
	good, bad := newFakeCaddy(), newFakeCaddy()
	f := fakeFleet(t, p, good, bad)
	clock := newClock()
	push := pusher.New(pusher.Options{Now: clock.now, Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	a, a2, b, x := table("a.example", "a1"), table("a.example", "a2"), table("b.example", "b1"), table("x.example", "x1")
	wantErr := []string{"pod pod-1: caddy rejected the configuration (400): " + rejection}

	tableStep{name: "both take the first config", config: frame("f1", a, b),
		calls:  [][]string{{getID + "f1", getState, postDelta, postLoad}, {getID + "f1", getState, postDelta, postLoad}},
		deltas: [][]string{{"replace set=a.example,b.example"}, {"replace set=a.example,b.example"}},
		want:   pusher.Result{Programmed: 2, Pushed: 2}}.run(t, push, req, good, bad)

	bad.set(func(c *fakeCaddy) { c.rejectTables = rejection })
	res := tableStep{name: "pod 1 rejects the changed host table; the frame is not sent to it", config: frame("f2", a2, b),
		calls:  [][]string{{postDelta, postLoad}, {postDelta}},
		deltas: [][]string{{"set=a.example"}, {"set=a.example"}},
		want:   pusher.Result{Programmed: 1, Pushed: 2, Errors: wantErr}, errors: wantErr}.run(t, push, req, good, bad)
	if res.RetryAfter != pusher.DefaultInitialBackoff {
		t.Fatalf("RetryAfter is %v, want the initial backoff", res.RetryAfter)
	}
	tableStep{name: "within the backoff nothing is sent and the error stays", config: frame("f2", a2, b),
		calls: [][]string{nil, nil}, deltas: [][]string{nil, nil},
		want: pusher.Result{Programmed: 1, Errors: wantErr}, errors: wantErr}.run(t, push, req, good, bad)
	clock.advance(pusher.DefaultInitialBackoff)
	tableStep{name: "after it the same delta is sent again", config: frame("f2", a2, b),
		calls: [][]string{nil, {postDelta}}, deltas: [][]string{nil, {"set=a.example"}},
		want: pusher.Result{Programmed: 1, Pushed: 1, Errors: wantErr}, errors: wantErr}.run(t, push, req, good, bad)
	tableStep{name: "going back to the first config sends pod 1 nothing: it still holds it", config: frame("f1", a, b),
		calls: [][]string{{postDelta, postLoad}, nil}, deltas: [][]string{{"set=a.example"}, nil},
		want: pusher.Result{Programmed: 2, Pushed: 1}}.run(t, push, req, good, bad)

	bad.set(func(c *fakeCaddy) { c.rejectTables, c.failTables = "", "upstream gone" })
	tableStep{name: "a 500 to the delta", config: frame("f1", a, b, x),
		calls: [][]string{{postDelta}, {postDelta}}, deltas: [][]string{{"set=x.example"}, {"set=x.example"}},
		want: pusher.Result{Programmed: 1, Pushed: 2, Errors: []string{""}}, errors: []string{"pod pod-1: admin channel failed (500): upstream gone"}}.run(t, push, req, good, bad)
	bad.set(func(c *fakeCaddy) { c.failTables = "" })
	tableStep{name: "going back after a 500 deletes the host table it may hold", config: frame("f1", a, b),
		calls: [][]string{{postDelta}, {postDelta}}, deltas: [][]string{{"delete=x.example"}, {"delete=x.example"}},
		want: pusher.Result{Programmed: 2, Pushed: 2}}.run(t, push, req, good, bad)
	if got, want := bad.holds(), held(a, b); !slices.Equal(got, want) {
		t.Fatalf("pod 1 holds %q, want %q", got, want)
	}
}

// TestPushPartlyTakenTables: a pod that does not take one host table (207) takes the
// others and the frame; the Pusher records that, reports the host table with the pods that
// did not take it in TableErrors (not as a pod error), also while they wait out their
// backoff, and sends them only that host table again. Another tenant's change in the meantime is sent at once.
func TestPushPartlyTakenTables(t *testing.T) {
	const refusal = `table "80/" host "b.example": unknown module: http.handlers.nope`
	p := newPKI(t)
	good, bad := newFakeCaddy(), newFakeCaddy()
	f := fakeFleet(t, p, good, bad)
	clock := newClock()
	push := pusher.New(pusher.Options{Now: clock.now, Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	a, a2, a3, b, b2 := table("a.example", "a1"), table("a.example", "a2"), table("a.example", "a3"), table("b.example", "b1"), table("b.example", "b2")
	wantTables := []pusher.TableError{{Table: "80/", Host: "b.example", Error: refusal, Pods: []string{"pod-1"}}}
	check := func(name string, res pusher.Result, want []pusher.TableError) {
		t.Helper()
		if !slices.EqualFunc(res.TableErrors, want, func(x, y pusher.TableError) bool {
			return x.Table == y.Table && x.Host == y.Host && x.Error == y.Error && slices.Equal(x.Pods, y.Pods)
		}) {
			t.Fatalf("%s: table errors %+v, want %+v", name, res.TableErrors, want)
		}
	}

	tableStep{name: "both take the first config", config: frame("f1", a, b),
		calls:  [][]string{{getID + "f1", getState, postDelta, postLoad}, {getID + "f1", getState, postDelta, postLoad}},
		deltas: [][]string{{"replace set=a.example,b.example"}, {"replace set=a.example,b.example"}},
		want:   pusher.Result{Programmed: 2, Pushed: 2}}.run(t, push, req, good, bad)

	bad.set(func(c *fakeCaddy) { c.refuse = map[string]string{"b.example": refusal} })
	res := tableStep{name: "pod 1 does not take b.example; it takes a.example and the frame", config: frame("f2", a2, b2),
		calls:  [][]string{{postDelta, postLoad}, {postDelta, postLoad}},
		deltas: [][]string{{"set=a.example,b.example"}, {"set=a.example,b.example"}},
		want:   pusher.Result{Programmed: 1, Pushed: 2}}.run(t, push, req, good, bad)
	check("the partial push", res, wantTables)
	if got, want := bad.holds(), held(a2, b); !slices.Equal(got, want) || bad.running() != string(frame("f2").JSON) {
		t.Fatalf("pod 1 holds %q and runs %s, want %q and f2", got, bad.running(), want)
	}
	res = tableStep{name: "within the backoff nothing is sent and the host table is still reported", config: frame("f2", a2, b2),
		calls: [][]string{nil, nil}, deltas: [][]string{nil, nil},
		want: pusher.Result{Programmed: 1}}.run(t, push, req, good, bad)
	check("within the backoff", res, wantTables)
	res = tableStep{name: "another tenant's change goes at once; pod 1 is sent it and b.example", config: frame("f2", a3, b2),
		calls: [][]string{{postDelta}, {postDelta}}, deltas: [][]string{{"set=a.example"}, {"set=a.example,b.example"}},
		want: pusher.Result{Programmed: 1, Pushed: 2}}.run(t, push, req, good, bad)
	check("another tenant's change", res, wantTables)
	if got, want := bad.holds(), held(a3, b); !slices.Equal(got, want) {
		t.Fatalf("pod 1 holds %q, want %q", got, want)
	}
	bad.set(func(c *fakeCaddy) { c.refuse = nil })
	clock.advance(pusher.DefaultInitialBackoff)
	res = tableStep{name: "after the backoff pod 1 is sent b.example alone", config: frame("f2", a3, b2),
		calls: [][]string{nil, {postDelta}}, deltas: [][]string{nil, {"set=b.example"}},
		want: pusher.Result{Programmed: 2, Pushed: 1}}.run(t, push, req, good, bad)
	check("taken at last", res, nil)
}

// TestPushRecordsEachStepTaken: when a later step of a push fails, what the earlier ones
// delivered is not sent again; after a replace of unknown outcome the whole set is sent
// again.
func TestPushRecordsEachStepTaken(t *testing.T) {
	p := newPKI(t)
	c := newFakeCaddy()
	f := fakeFleet(t, p, c)
	clock := newClock()
	push := pusher.New(pusher.Options{Now: clock.now, Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	a, a2, b := table("a.example", "a1"), table("a.example", "a2"), table("b.example", "b1")
	retry := func() { clock.advance(time.Hour) }

	tableStep{name: "first", config: frame("f1", a),
		calls: [][]string{{getID + "f1", getState, postDelta, postLoad}}, deltas: [][]string{{"replace set=a.example"}},
		want: pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)

	c.set(func(c *fakeCaddy) { c.rejectLoad = "bad frame" })
	tableStep{name: "the frame is rejected after the host tables went", config: frame("f2", a2),
		calls: [][]string{{postDelta, postLoad}}, deltas: [][]string{{"set=a.example"}},
		want: pusher.Result{Pushed: 1, Errors: []string{""}}}.run(t, push, req, c)
	c.set(func(c *fakeCaddy) { c.rejectLoad = "" })
	retry()
	tableStep{name: "the retry sends the frame only", config: frame("f2", a2),
		calls: [][]string{{postLoad}}, deltas: [][]string{nil},
		want: pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)

	c.set(func(c *fakeCaddy) { c.failTables = "gone" })
	tableStep{name: "the delete after the frame fails", config: frame("f3"),
		calls: [][]string{{postLoad, postDelta}}, deltas: [][]string{{"delete=a.example"}},
		want: pusher.Result{Pushed: 1, Errors: []string{""}}}.run(t, push, req, c)
	c.set(func(c *fakeCaddy) { c.failTables = "" })
	retry()
	tableStep{name: "the retry sends the delete only", config: frame("f3"),
		calls: [][]string{{postDelta}}, deltas: [][]string{{"delete=a.example"}},
		want: pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)

	c.set(func(c *fakeCaddy) { c.failTables = "gone" })
	tableStep{name: "a set with an unknown outcome", config: frame("f3", b),
		calls: [][]string{{postDelta}}, deltas: [][]string{{"replace set=b.example"}},
		want: pusher.Result{Pushed: 1, Errors: []string{""}}}.run(t, push, req, c)
	c.set(func(c *fakeCaddy) { c.failTables = "" })
	retry()
	tableStep{name: "after a replace of unknown outcome the whole set is sent again, and the frame is not", config: frame("f3"),
		calls: [][]string{{postDelta}}, deltas: [][]string{{"replace"}},
		want: pusher.Result{Programmed: 1, Pushed: 1}}.run(t, push, req, c)
	if got := c.holds(); len(got) != 0 {
		t.Fatalf("the pod holds %q", got)
	}
}

// TestPushRefusesBadTables: host tables without a hash, or two of one key, are reported
// for every pod, naming the entry, and nothing is sent.
func TestPushRefusesBadTables(t *testing.T) {
	p := newPKI(t)
	c := newFakeCaddy()
	f := fakeFleet(t, p, c)
	push := pusher.New(pusher.Options{Tuning: pusher.Tuning{Timeout: 5 * time.Second}})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	a := table("a.example", "a1")
	noHash := table("b.example", "b1")
	noHash.Hash = ""
	for name, tc := range map[string]struct {
		config pusher.Config
		want   string
	}{
		"no hash":   {frame("f1", a, noHash), `pod pod-0: config.tables[1] (table "80/", host "b.example"): hash is empty`},
		"duplicate": {frame("f1", a, table("a.example", "a2")), `pod pod-0: config.tables[1]: table "80/" has host "a.example" twice`},
	} {
		tableStep{name: name, config: tc.config, calls: [][]string{nil}, deltas: [][]string{nil},
			want: pusher.Result{Errors: []string{""}}, errors: []string{tc.want}}.run(t, push, req, c)
	}
}

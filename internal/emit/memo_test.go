package emit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestMemoEmitsAsWithout translates every translator case through the changes of
// fixture.MemoSteps with a translator.Memo held from step to step, as the operator
// does, and emits each translation with an emit.Memo held as well and without one: the
// results must be the same. A last step changes an option, which must render everything.
func TestMemoEmitsAsWithout(t *testing.T) {
	taken := 0
	for _, name := range fixture.Cases(t, translatorTestdata) {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, translatorTestdata, name)
			fixture.Stamp(&in)
			in.Memo = translator.NewMemo()
			memo, last := emit.NewMemo(), emit.Result{}
			steps := append(fixture.MemoSteps, fixture.MemoStep{Name: "unchanged again"})
			for i, step := range steps {
				if step.Change != nil {
					step.Change(&in)
				}
				opts := emit.Options{}
				if i == len(steps)-1 {
					opts.StreamCloseDelay = "5s"
				}
				g := translator.Translate(in).IR
				want, err := emit.Emit(g, opts)
				if err != nil {
					t.Fatal(err)
				}
				opts.Memo = memo
				got, err := emit.Emit(g, opts)
				if err != nil {
					t.Fatal(err)
				}
				if d := resultDiff(got, want); d != "" {
					t.Fatalf("after %q, the emit with a Memo differs from the one without: %s", step.Name, d)
				}
				taken += sharedTables(got, last)
				last = got
			}
		})
	}
	if taken == 0 {
		t.Error("no host table was taken from a Memo")
	}
}

// TestMemoRendersOnlyTheChangedHostGroup: after a one-route change among 1,000 routes
// of a hostname each, the emit with a Memo renders one host table anew and takes the
// others from the Memo (the same bytes); a change of options renders them all.
func TestMemoRendersOnlyTheChangedHostGroup(t *testing.T) {
	in := hostPerRouteInput(1000)
	in.Memo = translator.NewMemo()
	memo := emit.NewMemo()
	first, err := emit.Emit(translator.Translate(in).IR, emit.Options{Memo: memo})
	if err != nil {
		t.Fatal(err)
	}
	in.HTTPRoutes[500].Spec.Hostnames = []gwapiv1.Hostname{"changed.example.com"}
	in.HTTPRoutes[500].Generation++
	second, err := emit.Emit(translator.Translate(in).IR, emit.Options{Memo: memo})
	if err != nil {
		t.Fatal(err)
	}
	if n := sharedTables(second, first); n != 999 {
		t.Errorf("after one route changed, %d host tables were taken from the Memo, want 999", n)
	}
	third, err := emit.Emit(translator.Translate(in).IR, emit.Options{Memo: memo, StreamCloseDelay: "5s"})
	if err != nil {
		t.Fatal(err)
	}
	if n := sharedTables(third, second); n != 0 {
		t.Errorf("after the options changed, %d host tables were taken from the Memo, want 0", n)
	}
}

// sharedTables counts the host tables of a whose routes are the very bytes of b's host
// table of the same table and host: taken from a Memo rather than rendered again.
func sharedTables(a, b emit.Result) int {
	type key struct{ table, host string }
	at := map[key]*byte{}
	for _, t := range b.Tables {
		if len(t.Routes) > 0 {
			at[key{t.Table, t.Host}] = &t.Routes[0]
		}
	}
	n := 0
	for _, t := range a.Tables {
		if len(t.Routes) > 0 && at[key{t.Table, t.Host}] == &t.Routes[0] {
			n++
		}
	}
	return n
}

// resultDiff says how two results differ; "" when they do not.
func resultDiff(got, want emit.Result) string {
	if !bytes.Equal(got.JSON, want.JSON) || got.Hash != want.Hash {
		return "the frames differ"
	}
	g, err := json.Marshal(got.Tables)
	if err != nil {
		return err.Error()
	}
	w, err := json.Marshal(want.Tables)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(g, w) {
		return fmt.Sprintf("the host tables differ:\n%s\nwant:\n%s", g, w)
	}
	return ""
}

// TestMemosHoldLittle: memos built as a burst builds them (25 new routes per translation
// and emit, up to 4,000) hold little beyond the last Result: what each translation or
// emit keeps must not hold on to the arrays of the whole Gateway it was cut from. A
// Gateway's memos live as long as the Gateway; one that held every reconcile's arrays
// held 23 times the last Result's heap at 10,000 routes.
func TestMemosHoldLittle(t *testing.T) {
	without, with, err := heldByBurst(4000, 25)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap held: %.1f MiB with memos, %.1f MiB for the last Result alone", with/(1<<20), without/(1<<20))
	if with > 3*without {
		t.Errorf("the memos and the last Result hold %.1f MiB, more than 3 times the %.1f MiB of the last Result alone",
			with/(1<<20), without/(1<<20))
	}
}

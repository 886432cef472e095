package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping the test.
type recorder struct {
	testing.TB
	name     string
	failures []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Name() string      { return r.name }
func (r *recorder) Fatal(args ...any) { r.failures = append(r.failures, fmt.Sprint(args...)) }
func (r *recorder) Fatalf(f string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(f, args...))
}
func (r *recorder) Errorf(f string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(f, args...))
}
func (r *recorder) failed(want string) bool {
	return len(r.failures) == 1 && strings.Contains(r.failures[0], want)
}

func TestCheckAndSweep(t *testing.T) {
	if *update {
		t.Fatal("this test checks the comparing mode: run it without -update")
	}
	dir := t.TempDir()
	for _, f := range []string{"a.in.yaml", "a.out.yaml", "stale.out.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x: 1\ny: 2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "a.out.yaml")
	cases := map[string]struct {
		run  func(r *recorder)
		name string
		want string // the one failure expected; empty: none
	}{
		"same bytes": {name: "TestGolden/a", run: func(r *recorder) { Check(r, out, []byte("x: 1\ny: 2\n")) }},
		"other bytes": {name: "TestGolden/a", want: "line 2:\n- y: 2\n+ y: 3",
			run: func(r *recorder) { Check(r, out, []byte("x: 1\ny: 3\n")) }},
		"missing golden": {name: "TestGolden/b", want: "golden " + filepath.Join(dir, "b.out.yaml") + " missing",
			run: func(r *recorder) { Check(r, filepath.Join(dir, "b.out.yaml"), nil) }},
		"check outside a Golden test": {name: "TestRender/a", want: "TestRender writes goldens but its name lacks Golden",
			run: func(r *recorder) { Check(r, out, []byte("x: 1\ny: 2\n")) }},
		"stale golden": {name: "TestRenderGolden", want: "stale golden " + filepath.Join(dir, "stale.out.yaml"),
			run: func(r *recorder) { Sweep(r, dir, ".out.yaml", []string{"a"}) }},
		"no stale golden": {name: "TestRenderGolden",
			run: func(r *recorder) { Sweep(r, dir, ".out.yaml", []string{"a", "stale"}) }},
		"sweep outside a Golden test": {name: "TestRender", want: "TestRender writes goldens",
			run: func(r *recorder) { Sweep(r, dir, ".out.yaml", []string{"a"}) }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := &recorder{TB: t, name: c.name}
			c.run(r)
			if c.want == "" && len(r.failures) > 0 || c.want != "" && !r.failed(c.want) {
				t.Errorf("failures %q, want %q", r.failures, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.out.yaml")); err != nil {
		t.Errorf("a sweep without -update deleted a file: %v", err)
	}
}

func TestCaseName(t *testing.T) {
	cases := map[string]struct {
		kinds []string
		ok    bool
	}{
		"gateway-https-terminate":   {kinds: []string{"Gateway", "HTTPRoute", "Secret"}, ok: true},
		"gateway-no-routes":         {kinds: []string{"Gateway", "Service"}, ok: true},
		"httproute-basic":           {kinds: []string{"Gateway", "HTTPRoute", "HTTPRoute"}, ok: true},
		"grpcroute-method-exact":    {kinds: []string{"Gateway", "GRPCRoute", "Service"}, ok: true},
		"tlsroute-passthrough":      {kinds: []string{"Gateway", "TLSRoute"}, ok: true},
		"routes-poison-regex":       {kinds: []string{"Gateway", "GRPCRoute", "HTTPRoute"}, ok: true},
		"routes-one-kind":           {kinds: []string{"Gateway", "HTTPRoute"}},
		"httproute-with-grpc":       {kinds: []string{"Gateway", "GRPCRoute", "HTTPRoute"}},
		"grpcroute-holding-http":    {kinds: []string{"Gateway", "HTTPRoute"}},
		"httproute-without-a-route": {kinds: []string{"Gateway"}},
		"basic":                     {kinds: []string{"Gateway", "HTTPRoute"}},
		"http-basic":                {kinds: []string{"Gateway", "HTTPRoute"}},
		"backendtlspolicy-grpc":     {kinds: []string{"Gateway", "GRPCRoute", "BackendTLSPolicy"}, ok: true},
		"backendtlspolicy-none":     {kinds: []string{"Gateway", "HTTPRoute"}},
		"listenerset-set":           {kinds: []string{"Gateway", "ListenerSet", "HTTPRoute"}, ok: true},
		"listenerset-none":          {kinds: []string{"Gateway", "HTTPRoute"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := CaseName(name, c.kinds)
			if c.ok != (err == nil) {
				t.Errorf("error %v, want ok %v", err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "case "+name+":") {
				t.Errorf("error %q does not name the case", err)
			}
		})
	}
}

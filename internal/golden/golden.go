// Package golden is the one test helper behind every golden file of the pure stages:
// testdata/<case>.in.yaml → <case>.out.yaml (or .json). It registers the -update flag:
// `make testdata` (go test -run Golden -update in every package whose tests import this
// one) rewrites the goldens and deletes those no case produces any more. Only tests import
// it; it reads and writes files and must not be imported by production code.
//
// Rules the helpers enforce:
//   - A test that writes goldens has Golden in its name (TestGolden, TestRenderGolden, …),
//     so that `make testdata` runs it: Check and Sweep fail in any other test.
//   - A translator case, and the emitter golden named after it, starts with the subject it
//     is about (CaseName; fixture.Cases fails a case that does not): gateway- for the
//     Gateway's own spec (listeners, TLS, frontend validation, allowedRoutes), where routes
//     only show the effect; otherwise the lower-case kind of the one route kind its input
//     holds (httproute-, grpcroute-, and tlsroute-, tcproute-, udproute- alike), or routes-
//     for a behaviour shared by route kinds and shown with several of them. Goldens of other
//     stages (infra, certs) and of emit options are named by what they set.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files and delete those no case produces")

// Cases returns the sorted case names of dir: the base names of *.in.yaml. A dir
// without cases fails the test.
func Cases(t testing.TB, dir string) []string {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := make([]string, 0, len(ins))
	for _, in := range ins {
		cases = append(cases, strings.TrimSuffix(filepath.Base(in), ".in.yaml"))
	}
	slices.Sort(cases)
	if len(cases) == 0 {
		t.Fatalf("no *.in.yaml in %s", dir)
	}
	return cases
}

// Check compares got with the golden file at path, or rewrites it under -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if !goldenTest(t) {
		return
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s missing (run make testdata): %v", path, err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden (run make testdata and review the diff):\n%s", path, firstDiff(want, got))
	}
}

// Sweep finds the files of dir ending in suffix whose case is not in cases (a golden
// no case produces): under -update it deletes them, otherwise it fails the test.
func Sweep(t testing.TB, dir, suffix string, cases []string) {
	t.Helper()
	if !goldenTest(t) {
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if slices.Contains(cases, strings.TrimSuffix(filepath.Base(f), suffix)) {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("stale golden %s: no case produces it (run make testdata to delete it)", f)
	}
}

// goldenTest fails t unless its top-level test has Golden in its name.
func goldenTest(t testing.TB) bool {
	t.Helper()
	top, _, _ := strings.Cut(t.Name(), "/")
	if !strings.Contains(top, "Golden") {
		t.Fatalf("%s writes goldens but its name lacks Golden, so make testdata would not run it", top)
		return false
	}
	return true
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// YAML renders objects as a multi-document YAML stream. Null fields and the status (zero
// values typed Kubernetes objects carry; rendered objects never set a status) are dropped
// so goldens show only what was set.
func YAML(objs ...any) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		raw, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var m any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		m = prune(m)
		if top, ok := m.(map[string]any); ok {
			delete(top, "status")
		}
		out, err := yaml.Marshal(m)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = prune(e)
		}
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
	}
	return v
}

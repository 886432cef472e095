// Package golden is the test helper behind the golden files of the pure stages:
// testdata/<case>.in.yaml → <case>.out.yaml. Run `go test ./... -update` to rewrite the
// goldens and delete those no case produces any more. Only tests import it (it registers
// the -update flag).
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files and delete stale ones")

// Updating reports whether -update was given.
func Updating() bool { return *update }

// Cases returns the sorted case names of dir: the base names of *.in.yaml.
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

// Check compares got with the golden file, or rewrites it under -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the output (run go test -update to accept):\n--- got ---\n%s", path, got)
	}
}

// Sweep finds *.out.yaml in dir without a *.in.yaml: under -update it deletes them,
// otherwise it fails the test.
func Sweep(t testing.TB, dir string) {
	t.Helper()
	outs, err := filepath.Glob(filepath.Join(dir, "*.out.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range outs {
		in := strings.TrimSuffix(out, ".out.yaml") + ".in.yaml"
		if _, err := os.Stat(in); err == nil {
			continue
		}
		if *update {
			if err := os.Remove(out); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("stale golden %s has no %s (run go test -update to delete it)", out, filepath.Base(in))
	}
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

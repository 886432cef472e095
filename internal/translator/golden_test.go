package translator_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/conversion"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestGolden translates every testdata/<case>.in.yaml and compares IR and statuses
// with testdata/<case>.out.yaml.
func TestGolden(t *testing.T) {
	cases := fixture.Cases(t, "testdata")
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, "testdata", name)
			got, err := yaml.Marshal(translator.Translate(in))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".out.yaml"), got)
		})
	}
	golden.Sweep(t, "testdata", ".out.yaml", cases)
}

// TestGoldenSplit translates every case again with each route checked on a goroutine
// of its own, as a large table is, and expects the same output.
func TestGoldenSplit(t *testing.T) {
	defer translator.SplitEveryRoute()()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for _, name := range fixture.Cases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, "testdata", name)
			got, err := yaml.Marshal(translator.Translate(in))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", name+".out.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("checked on one goroutine per route, %s differs from %s.out.yaml", name, name)
			}
		})
	}
}

// inputEquality compares translator inputs: the semantic equality of Kubernetes objects,
// with the times of the recorded certificate states (plain time.Time) compared by Equal.
var inputEquality = func() conversion.Equalities {
	e := equality.Semantic.Copy()
	if err := e.AddFunc(func(a, b time.Time) bool { return a.Equal(b) }); err != nil {
		panic(err)
	}
	return e
}()

// TestGoldenInputUntouched: translating a case leaves its input as it was. The operator
// hands the translator the cache's own objects, which nobody may write to.
func TestGoldenInputUntouched(t *testing.T) {
	for _, name := range fixture.Cases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			in, want := fixture.LoadCase(t, "testdata", name), fixture.LoadCase(t, "testdata", name)
			translator.Translate(in)
			if !inputEquality.DeepEqual(in, want) {
				t.Error("the translation changed its input")
			}
		})
	}
}

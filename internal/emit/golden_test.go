package emit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

const translatorTestdata = "../translator/testdata"

// TestGolden emits the IR of every translator case and compares the Caddy JSON
// (indented for review) with testdata/<case>.json.
func TestGolden(t *testing.T) {
	keep := map[string]bool{}
	for _, name := range fixture.Cases(t, translatorTestdata) {
		keep[name+".json"] = true
		t.Run(name, func(t *testing.T) {
			res := emitCase(t, filepath.Join(translatorTestdata, name+".in.yaml"))
			var buf bytes.Buffer
			if err := json.Indent(&buf, res.JSON, "", "  "); err != nil {
				t.Fatal(err)
			}
			buf.WriteByte('\n')
			fixture.Golden(t, filepath.Join("testdata", name+".json"), buf.Bytes())
		})
	}
	fixture.RemoveStale(t, "testdata", ".json", keep)
}

// TestDeterministic emits the same input twice and expects identical bytes and hash.
func TestDeterministic(t *testing.T) {
	for _, name := range fixture.Cases(t, translatorTestdata) {
		path := filepath.Join(translatorTestdata, name+".in.yaml")
		a, b := emitCase(t, path), emitCase(t, path)
		if !bytes.Equal(a.JSON, b.JSON) || a.Hash != b.Hash {
			t.Errorf("%s: two emissions differ", name)
		}
	}
	in := generateInput(50)
	a, _ := emit.Emit(translator.Translate(in).IR, emit.Options{})
	b, _ := emit.Emit(translator.Translate(in).IR, emit.Options{})
	if a.Hash != b.Hash {
		t.Errorf("generated input: two emissions differ")
	}
}

func emitCase(t testing.TB, path string) emit.Result {
	t.Helper()
	res, err := emit.Emit(translator.Translate(loadCase(t, path)).IR, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func loadCase(t testing.TB, path string) translator.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in, err := fixture.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

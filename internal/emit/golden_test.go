package emit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

const translatorTestdata = "../translator/testdata"

// TestGolden emits the IR of every translator case and compares the Caddy JSON
// (indented for review) with testdata/<case>.json, and its route tables with
// testdata/tables/<case>.json.
func TestGolden(t *testing.T) {
	cases := fixture.Cases(t, translatorTestdata)
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			res := emitCase(t, name)
			checkGoldenResult(t, filepath.Join("testdata"), name, res)
		})
	}
	golden.Sweep(t, "testdata", ".json", cases)
	golden.Sweep(t, filepath.Join("testdata", "tables"), ".json", cases)
}

// TestDeterministic emits the same input twice and expects identical bytes and hash.
func TestDeterministic(t *testing.T) {
	for _, name := range fixture.Cases(t, translatorTestdata) {
		a, b := emitCase(t, name), emitCase(t, name)
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

// emitCase emits the translator's golden case name.
func emitCase(t testing.TB, name string) emit.Result {
	t.Helper()
	res, err := emit.Emit(translator.Translate(fixture.LoadCase(t, translatorTestdata, name)).IR, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkGoldenResult compares res's config (indented for review) with dir/<name>.json and
// its route tables with dir/tables/<name>.json: a list of the host tables, each with its
// routes.
func checkGoldenResult(t *testing.T, dir, name string, res emit.Result) {
	t.Helper()
	if err := checkTables(res); err != nil {
		t.Error(err)
	}
	golden.Check(t, filepath.Join(dir, name+".json"), indentJSON(t, res.JSON))
	tables, err := json.Marshal(res.Tables)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join(dir, "tables", name+".json"), indentJSON(t, tables))
}

// checkTables checks what holds of every emitted result's host tables: each is named
// once, its table by a gateway_routes handler of the config, and its hash is the
// SHA-256 of its routes, which are a JSON list.
func checkTables(res emit.Result) error {
	seen := map[caddyjson.HostKey]bool{}
	for _, t := range res.Tables {
		if seen[t.Key()] {
			return fmt.Errorf("host table %q of table %q appears twice", t.Host, t.Table)
		}
		seen[t.Key()] = true
		named, err := json.Marshal(caddyjson.RouteTable{Handler: caddyjson.RouteTableHandler, Table: t.Table})
		if err != nil {
			return err
		}
		if !bytes.Contains(res.JSON, named) {
			return fmt.Errorf("table %q: the config has no %s", t.Table, named)
		}
		if sum := sha256.Sum256(t.Routes); hex.EncodeToString(sum[:]) != t.Hash {
			return fmt.Errorf("host table %q of table %q: hash %s is not the SHA-256 of its routes", t.Host, t.Table, t.Hash)
		}
		var routes []json.RawMessage
		if err := json.Unmarshal(t.Routes, &routes); err != nil {
			return fmt.Errorf("host table %q of table %q: routes are not a JSON list: %w", t.Host, t.Table, err)
		}
	}
	return nil
}

// tablesRoutes is the routes of every host table of res, one list after the other.
func tablesRoutes(res emit.Result) []byte {
	var b []byte
	for _, t := range res.Tables {
		b = append(b, t.Routes...)
	}
	return b
}

// indentJSON indents b for review, with a final newline.
func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

package emit_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestAppendJSONMatchesEncodingJSON checks that the reflection-free encoder writes
// exactly what encoding/json writes, for every golden case, a generated config, and
// strings that take the slow path.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	check := func(name string, cfg *caddyjson.Config) {
		t.Helper()
		want, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: AppendJSON differs from encoding/json at byte %d:\n got %.200s\nwant %.200s", name, i, got[i:], want[i:])
		}
	}
	for _, name := range fixture.Cases(t, translatorTestdata) {
		in := fixture.LoadCase(t, translatorTestdata, name)
		cfg, err := emit.Config(translator.Translate(in).IR, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		check(name, cfg)
		checkTablesEncoding(t, name, translator.Translate(in).IR, emit.Options{})
	}
	cfg, err := emit.Config(translator.Translate(generateInput(20)).IR, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("generated", cfg)
	checkTablesEncoding(t, "generated", translator.Translate(generateInput(20)).IR, emit.Options{})
	for name, o := range serverOptionsCases {
		cfg, err := emit.Config(translator.Translate(fixture.LoadCase(t, translatorTestdata, "gateway-https-terminate")).IR, emit.Options{Servers: o})
		if err != nil {
			t.Fatal(err)
		}
		check("server options "+name, cfg)
	}
	for name, c := range acmeCases {
		cfg, err := emit.Config(c.g(), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		check("acme "+name, cfg)
	}
	for name, c := range optionCases {
		cfg, err := emit.Config(translator.Translate(fixture.LoadCase(t, translatorTestdata, c.in)).IR, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		check("options "+name, cfg)
	}
	for name, c := range tlsServerCases {
		cfg, err := emit.Config(tlsServerIR(t, c), emit.Options{Servers: c.servers})
		if err != nil {
			t.Fatal(err)
		}
		check("TLS servers "+name, cfg)
	}
	for name, c := range backendTLSCases {
		cfg, err := emit.Config(backendTLSIR(t, c), emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		check("backend TLS "+name, cfg)
		checkTablesEncoding(t, "backend TLS "+name, backendTLSIR(t, c), emit.Options{})
	}
	cfg, err = emit.Config(translator.Translate(generateInput(5)).IR, emit.Options{
		LogFile: "/tmp/caddy.log", AccessLogFormat: "json", StreamCloseDelay: "1m30s"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Apps.HTTP.Metrics.PerHost = true
	cfg.Logging.Logs["nil"] = nil
	check("log file, per-host metrics", cfg)
	odd := "<a&b> \"q\" \\ \u2028 é \x01 \xff"
	empty := map[string][]string{}
	check("odd strings", &caddyjson.Config{Apps: caddyjson.Apps{HTTP: &caddyjson.HTTPApp{Servers: map[string]*caddyjson.Server{
		odd: {Listen: []string{odd, `^/v1\.2/\"q\"$`}, Routes: []caddyjson.Route{{
			Match: []caddyjson.MatcherSet{{Query: &empty, HeaderRegexp: caddyjson.RegexpMap{
				{Key: "b", Value: caddyjson.Regexp{Pattern: "2"}}, {Key: "a", Value: caddyjson.Regexp{Pattern: "1"}},
			}}, {VarsRegexp: caddyjson.RegexpMap{{Key: odd, Value: caddyjson.Regexp{Pattern: odd}}}}},
			Handle: []caddyjson.Handler{
				caddyjson.StaticResponse{Handler: "static_response", Headers: map[string][]string{odd: {odd}, "a": nil}},
				caddyjson.Subroute{Handler: "subroute"},
				&caddyjson.Rewrite{Handler: "rewrite", URI: odd},
			},
		}}},
		"nil": nil,
	}}}})
}

// checkTablesEncoding checks that the routes of every host table emitted for g are the
// bytes encoding/json writes for its typed routes.
func checkTablesEncoding(t *testing.T, name string, g *ir.Gateway, opts emit.Options) {
	t.Helper()
	typed, err := emit.TypedTables(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := emit.Emit(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(typed) != len(res.Tables) {
		t.Fatalf("%s: %d typed host tables, %d emitted", name, len(typed), len(res.Tables))
	}
	for i, tt := range typed {
		want, err := json.Marshal(tt.Routes)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Tables[i]
		if got.Table != tt.Table || got.Host != tt.Host || !bytes.Equal(got.Routes, want) {
			t.Errorf("%s: host table %q of %q differs from encoding/json of host table %q of %q:\n got %.300s\nwant %.300s",
				name, got.Host, got.Table, tt.Host, tt.Table, got.Routes, want)
		}
	}
}

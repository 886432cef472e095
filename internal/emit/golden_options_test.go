package emit_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// optionCases emit a translator golden case with Options other than the defaults.
var optionCases = map[string]struct {
	in   string
	opts emit.Options
}{
	"runtime": {in: "httproute-backend-filters", opts: emit.Options{
		StreamCloseDelay: "10s", LogLevel: "WARN", AccessLogFormat: "json", MetricsPort: 9300,
	}},
	"console-access-logs-no-metrics": {in: "httproute-basic", opts: emit.Options{
		AccessLogFormat: "console", DisableMetrics: true,
	}},
	"log-level-only": {in: "httproute-basic", opts: emit.Options{LogLevel: "DEBUG"}},
}

// TestGoldenOptions compares each option case with testdata/options/<name>.json; the
// contract test checks Caddy accepts them.
func TestGoldenOptions(t *testing.T) {
	for name, c := range optionCases {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, translatorTestdata, c.in)
			res, err := emit.Emit(translator.Translate(in).IR, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenResult(t, filepath.Join("testdata", "options"), name, res)
		})
	}
	golden.Sweep(t, filepath.Join("testdata", "options"), ".json", slices.Collect(maps.Keys(optionCases)))
	golden.Sweep(t, filepath.Join("testdata", "options", "tables"), ".json", slices.Collect(maps.Keys(optionCases)))
}

// TestOptionsRefused checks the options Emit refuses, and that the error names them.
func TestOptionsRefused(t *testing.T) {
	cases := map[string]struct {
		opts emit.Options
		want string
	}{
		"log level":                  {emit.Options{LogLevel: "info"}, `log level "info"`},
		"access log format":          {emit.Options{AccessLogFormat: "text"}, `access log format "text"`},
		"metrics port on readiness":  {emit.Options{MetricsPort: 8081}, "metrics port 8081 is reserved for the readiness server"},
		"listener port on metrics":   {emit.Options{MetricsPort: 80}, "listener port 80 is reserved for the metrics server"},
		"listener port on readiness": {emit.Options{ReadinessPort: 80}, "listener port 80 is reserved for the readiness server"},
		"ACME storage":               {emit.Options{ACMEStorage: []byte(`{"root":"/x"}`)}, `ACME storage {"root":"/x"} is not a JSON object naming its module`},
		"HTTP-01 challenge port":     {emit.Options{HTTPChallengePort: 70000}, "HTTP-01 challenge port 70000 is not a port"},
	}
	in := fixture.LoadCase(t, translatorTestdata, "httproute-basic")
	g := translator.Translate(in).IR
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := emit.Emit(g, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	disabled := emit.Options{MetricsPort: 80, DisableMetrics: true}
	if _, err := emit.Emit(g, disabled); err != nil {
		t.Errorf("listener port on the port of disabled metrics: %v", err)
	}
}

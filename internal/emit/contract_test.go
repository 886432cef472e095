package emit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4"
)

// TestContractCaddyValidates loads every emitted golden into Caddy's own validation
// (decode, provision every module), so a config Caddy would reject never gets pushed.
func TestContractCaddyValidates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	withOptions, _ := filepath.Glob(filepath.Join("testdata", "options", "*.json"))
	files = append(files, withOptions...)
	if err != nil || len(files) == 0 {
		t.Fatalf("no emitted goldens found (%v); run go test -update", err)
	}
	for _, f := range files {
		name, _ := filepath.Rel("testdata", f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var cfg caddy.Config
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatalf("Caddy cannot decode: %v", err)
			}
			if err := caddy.Validate(&cfg); err != nil {
				t.Fatalf("Caddy rejects the config: %v", err)
			}
		})
	}
}

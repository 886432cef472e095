package emit_test

import (
	"encoding/json"
	"fmt"
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
	tlsServers, _ := filepath.Glob(filepath.Join("testdata", "tls-servers", "*.json"))
	backendTLS, _ := filepath.Glob(filepath.Join("testdata", "backend-tls", "*.json"))
	files = append(append(append(files, withOptions...), tlsServers...), backendTLS...)
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
			if err := caddyValidate(data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// caddyValidate decodes a config and runs Caddy's own validation on it (every module
// provisioned, nothing started).
func caddyValidate(data []byte) error {
	var cfg caddy.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("Caddy cannot decode: %w", err)
	}
	if err := caddy.Validate(&cfg); err != nil {
		return fmt.Errorf("Caddy rejects the config: %w", err)
	}
	return nil
}

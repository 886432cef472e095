package emit_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/emit"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4"
)

// TestContractCaddyValidates loads every emitted golden into Caddy's own validation
// (decode, provision every module), so a config Caddy would reject never gets pushed:
// each config, and the routes of each host table of its tables golden. A config with
// HTTP listeners needs the gateway_routes module registered.
func TestContractCaddyValidates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	withOptions, _ := filepath.Glob(filepath.Join("testdata", "options", "*.json"))
	tlsServers, _ := filepath.Glob(filepath.Join("testdata", "tls-servers", "*.json"))
	backendTLS, _ := filepath.Glob(filepath.Join("testdata", "backend-tls", "*.json"))
	acme, _ := filepath.Glob(filepath.Join("testdata", "acme", "*.json"))
	files = append(append(append(append(files, withOptions...), tlsServers...), backendTLS...), acme...)
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
		t.Run(filepath.Join(filepath.Dir(name), "tables", filepath.Base(name)), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(filepath.Dir(f), "tables", filepath.Base(f)))
			if err != nil {
				t.Fatal(err)
			}
			var tables []caddyjson.HostTable
			if err := json.Unmarshal(data, &tables); err != nil {
				t.Fatal(err)
			}
			if err := caddyValidateTables(tables); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// caddyValidateResult has Caddy validate res's config, and each of its host tables'
// routes as the routes of a server of their own.
func caddyValidateResult(res emit.Result) error {
	if err := caddyValidate(res.JSON); err != nil {
		return err
	}
	return caddyValidateTables(res.Tables)
}

// caddyValidateTables has Caddy validate the routes of each host table as the routes of
// a server of their own (every handler and matcher provisioned, nothing started).
func caddyValidateTables(tables []caddyjson.HostTable) error {
	for _, t := range tables {
		cfg := `{"apps":{"http":{"servers":{"table":{"listen":["127.0.0.1:0"],"routes":` + string(t.Routes) + `}}}}}`
		if err := caddyValidate([]byte(cfg)); err != nil {
			return fmt.Errorf("host table %q of table %q: %w", t.Host, t.Table, err)
		}
	}
	return nil
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

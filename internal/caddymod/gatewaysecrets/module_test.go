package gatewaysecrets

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// TestConfigLoadsOutsideAPod validates a Caddy config whose storage is this module, as
// emit writes it, outside a pod: it loads, and the storage says it cannot reach the API
// server.
func TestConfigLoadsOutsideAPod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	storage := storageJSON(t, acmestore.For("team-a", "gw"))
	if err := caddy.Validate(&caddy.Config{StorageRaw: storage}); err != nil {
		t.Fatalf("validating a config with the storage: %v", err)
	}
	var m Module
	must(t, json.Unmarshal(storage, &m))
	if m.Namespace != "team-a" || len(m.Secrets) != acmestore.Shards || m.Leases[1] != acmestore.LeaseName("gw", 1) {
		t.Fatalf("the module decoded %+v", m.StorageConfig)
	}
	s, err := m.CertMagicStorage()
	must(t, err)
	if _, err := s.Load(context.Background(), "k"); err == nil || !strings.Contains(err.Error(), "no connection to the API server for the storage in team-a") {
		t.Fatalf("Load outside a pod: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := acmestore.For("ns", "gw")
	cases := map[string]struct {
		change func(*acmestore.StorageConfig)
		want   string
	}{
		"no namespace":   {func(c *acmestore.StorageConfig) { c.Namespace = "" }, "namespace is required"},
		"three secrets":  {func(c *acmestore.StorageConfig) { c.Secrets = c.Secrets[:3] }, "secrets must name 4 objects, got 3"},
		"an empty lease": {func(c *acmestore.StorageConfig) { c.Leases = []string{"a", "b", "", "d"} }, "leases[2] is empty"},
	}
	if err := (&Module{StorageConfig: good}).Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := acmestore.For("ns", "gw")
			tc.change(&c)
			err := (&Module{StorageConfig: c}).Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// Package gatewaysecrets is the Caddy storage module caddy.storage.gateway_secrets: the
// certmagic storage that every Caddy pod of a Gateway shares, kept in the cluster. Keys
// live in the Gateway's storage Secrets (acmestore.Shard picks which), locks are Leases,
// and every read goes to the API server, so nothing a replica caches can go stale. It
// talks to the API server as the pod's ServiceAccount (in-cluster config) and only gets
// and updates the Secrets and Leases named in its configuration: it never creates, lists
// or deletes objects, which the operator owns.
package gatewaysecrets

import (
	"fmt"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"k8s.io/client-go/rest"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

func init() {
	caddy.RegisterModule(Module{})
}

// Module is the storage's Caddy configuration: the Gateway's namespace and the names of
// its storage Secrets and lock Leases.
type Module struct {
	acmestore.StorageConfig

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Module) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.storage." + acmestore.StorageModule,
		New: func() caddy.Module { return new(Module) },
	}
}

// Provision takes Caddy's logger.
func (m *Module) Provision(ctx caddy.Context) error {
	m.logger = ctx.Logger()
	return nil
}

// Validate requires a namespace and acmestore.Shards names of each kind.
func (m *Module) Validate() error {
	return validate(m.StorageConfig)
}

// validate is Validate for a bare configuration.
func validate(c acmestore.StorageConfig) error {
	if c.Namespace == "" {
		return fmt.Errorf("%s: namespace is required", acmestore.StorageModule)
	}
	for field, list := range map[string][]string{"secrets": c.Secrets, "leases": c.Leases} {
		if len(list) != acmestore.Shards {
			return fmt.Errorf("%s: %s must name %d objects, got %d", acmestore.StorageModule, field, acmestore.Shards, len(list))
		}
		for i, n := range list {
			if n == "" {
				return fmt.Errorf("%s: %s[%d] is empty", acmestore.StorageModule, field, i)
			}
		}
	}
	return nil
}

// shared holds one Storage per configuration in this process, so that a config reload
// keeps the process's locks and its holder identity.
var shared = struct {
	sync.Mutex
	byConfig map[string]*Storage
}{byConfig: map[string]*Storage{}}

// inClusterConfig is rest.InClusterConfig; tests point it at their API server.
var inClusterConfig = rest.InClusterConfig

// CertMagicStorage returns the storage, connected with the pod's in-cluster
// configuration (its projected ServiceAccount token, re-read when it rotates). Outside a
// pod the config still loads (so that it validates anywhere), and every operation of the
// storage fails saying that it has no connection to the API server.
func (m *Module) CertMagicStorage() (certmagic.Storage, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	key := m.Namespace + "\x00" + strings.Join(m.Secrets, "\x00") + "\x00" + strings.Join(m.Leases, "\x00")
	shared.Lock()
	defer shared.Unlock()
	if s, ok := shared.byConfig[key]; ok {
		return s, nil
	}
	rc, err := inClusterConfig()
	if err != nil {
		err = fmt.Errorf("%s: no connection to the API server for the storage in %s: %w", acmestore.StorageModule, m.Namespace, err)
		if m.logger != nil {
			m.logger.Error("Storage unavailable", zap.Error(err))
		}
		return unavailable{err}, nil
	}
	s, err := New(Options{Config: m.StorageConfig, REST: rc, Logger: m.logger})
	if err != nil {
		return nil, err
	}
	shared.byConfig[key] = s
	return s, nil
}

var (
	_ caddy.Provisioner      = (*Module)(nil)
	_ caddy.Validator        = (*Module)(nil)
	_ caddy.StorageConverter = (*Module)(nil)
)

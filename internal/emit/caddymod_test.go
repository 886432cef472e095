package emit_test

// The operator's own Caddy modules (gateway_mirror, gateway_cors) must be registered
// for the contract test's caddy.Validate and for the in-process data plane, as they are
// in cmd/caddy.
import _ "github.com/caddy-gateway/operator/internal/caddymod"

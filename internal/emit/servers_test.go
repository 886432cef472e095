package emit_test

import (
	"cmp"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/golden"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// serverOptionsCases are the emit options of the golden testdata/server-options/<name>.json,
// each rendering the translator case gateway-https-terminate (an HTTPS and an HTTP port)
// unless serverOptionsInputs names another.
var serverOptionsCases = map[string]emit.ServerOptions{
	"all-set": {
		Protocols:         []string{"h1", "h2", "h3"},
		ReadHeaderTimeout: ptr(3 * time.Second), ReadTimeout: ptr(30 * time.Second),
		WriteTimeout: ptr(time.Minute), IdleTimeout: ptr(90 * time.Second),
		TrustedProxies: []string{"10.0.0.0/8", "192.168.0.0/16"},
		ProxyProtocol:  &emit.ProxyProtocol{Allow: []string{"10.1.0.0/16"}, Timeout: ptr(2 * time.Second)},
		TLSMinVersion:  "1.2",
		CipherSuites:   []string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	},
	// Zero timeouts disable them: negative where Caddy would put its default instead.
	"zero-timeouts-tls13": {
		ReadHeaderTimeout: ptr(time.Duration(0)), ReadTimeout: ptr(time.Duration(0)),
		WriteTimeout: ptr(time.Duration(0)), IdleTimeout: ptr(time.Duration(0)),
		ProxyProtocol: &emit.ProxyProtocol{Allow: []string{"0.0.0.0/0", "::/0"}},
		TLSMinVersion: "1.3",
	},
	"udp-idle-timeout": {UDPIdleTimeout: ptr(90 * time.Second)},
}

// serverOptionsInputs are the translator cases of the serverOptionsCases that do not
// render gateway-https-terminate.
var serverOptionsInputs = map[string]string{"udp-idle-timeout": "udproute-backends"}

func ptr[T any](v T) *T { return &v }

// TestGoldenServerOptions renders the server options into the listener ports' servers
// (not the readiness server), checks the bytes against the goldens and has Caddy
// validate them.
func TestGoldenServerOptions(t *testing.T) {
	for name, o := range serverOptionsCases {
		t.Run(name, func(t *testing.T) {
			in := fixture.LoadCase(t, translatorTestdata, cmp.Or(serverOptionsInputs[name], "gateway-https-terminate"))
			res, err := emit.Emit(translator.Translate(in).IR, emit.Options{Servers: o})
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenResult(t, filepath.Join("testdata", "server-options"), name, res)
			var cfg caddy.Config
			if err := json.Unmarshal(res.JSON, &cfg); err != nil {
				t.Fatalf("Caddy cannot decode: %v", err)
			}
			if err := caddy.Validate(&cfg); err != nil {
				t.Fatalf("Caddy rejects the config: %v", err)
			}
		})
	}
	golden.Sweep(t, filepath.Join("testdata", "server-options"), ".json", slices.Collect(maps.Keys(serverOptionsCases)))
	golden.Sweep(t, filepath.Join("testdata", "server-options", "tables"), ".json", slices.Collect(maps.Keys(serverOptionsCases)))
}

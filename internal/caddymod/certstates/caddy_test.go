package certstates

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// TestCaddyRecordsStates runs Caddy with the handler subscribed to certificate events and
// two automatic certificates: one from Caddy's internal CA, which is obtained, and one
// from an ACME directory nobody answers, which fails. Their states appear in the storage.
func TestCaddyRecordsStates(t *testing.T) {
	root := t.TempDir()
	cfg := fmt.Sprintf(`{
		"admin": {"disabled": true},
		"storage": {"module": "file_system", "root": %q},
		"apps": {
			"pki": {"certificate_authorities": {"local": {"install_trust": false}}},
			"events": {"subscriptions": [{
				"events": ["cert_obtaining", "cert_obtained", "cert_failed", "cert_ocsp_revoked"],
				"handlers": [{"handler": %q}]
			}]},
			"tls": {
				"disable_ocsp_stapling": true,
				"certificates": {"automate": ["good.example.com", "bad.example.com"]},
				"automation": {"policies": [
					{"subjects": ["good.example.com"], "issuers": [{"module": "internal"}]},
					{"subjects": ["bad.example.com"], "issuers": [{"module": "acme", "ca": "https://127.0.0.1:1/directory"}]}
				]}
			}
		}
	}`, root, acmestore.RecorderModule)
	if err := caddy.Load([]byte(cfg), true); err != nil {
		t.Fatalf("loading the config: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })

	good := waitState(t, root, "good.example.com", acmestore.Valid)
	if d := time.Until(good.NotAfter); d <= 0 || d > 8*24*time.Hour {
		t.Errorf("good.example.com NotAfter %v: want the internal CA's certificate expiry, within days", good.NotAfter)
	}
	bad := waitState(t, root, "bad.example.com", acmestore.Failing)
	if !strings.Contains(bad.Error, "127.0.0.1:1") {
		t.Errorf("bad.example.com error %q does not carry the ACME client's message", bad.Error)
	}
	if !bad.NotAfter.IsZero() {
		t.Errorf("bad.example.com NotAfter %v, want none", bad.NotAfter)
	}
}

// waitState waits for name's recorded state to reach phase in the file storage at root.
func waitState(t *testing.T, root, name string, phase acmestore.Phase) acmestore.CertificateState {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(acmestore.StateKey(name)))
	var st acmestore.CertificateState
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil || json.Unmarshal(b, &st) != nil {
			continue
		}
		if st.Phase == phase {
			return st
		}
	}
	t.Fatalf("the state of %s is %+v, want phase %s", name, st, phase)
	return st
}
